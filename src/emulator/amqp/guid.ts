/**
 * Lock tokens are uuids. On a delivery they travel as the delivery tag in .NET `Guid.ToByteArray`
 * order (first 4 bytes reversed, then two 2-byte groups swapped); inside `$management` bodies they
 * travel as AMQP uuids in RFC order. Mixing the two makes every settlement fail with lock-lost.
 */
import { randomUUID } from "node:crypto";

export function newLockToken(): string {
  return randomUUID();
}

export function uuidToRfcBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

export function rfcBytesToUuid(bytes: Buffer): string {
  const h = bytes.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** RFC byte order to .NET byte order (the transformation is its own inverse). */
export function swapGuidBytes(rfc: Buffer): Buffer {
  const out = Buffer.from(rfc);
  out[0] = rfc[3]!;
  out[1] = rfc[2]!;
  out[2] = rfc[1]!;
  out[3] = rfc[0]!;
  out[4] = rfc[5]!;
  out[5] = rfc[4]!;
  out[6] = rfc[7]!;
  out[7] = rfc[6]!;
  return out;
}

export function lockTokenToDeliveryTag(token: string): Buffer {
  return swapGuidBytes(uuidToRfcBytes(token));
}

/** Reads a uuid that rhea decoded from a `$management` body (a 16-byte Buffer or a string). */
export function uuidFromAmqp(value: unknown): string | undefined {
  if (Buffer.isBuffer(value) && value.length === 16) return rfcBytesToUuid(value);
  if (typeof value === "string" && /^[0-9a-f-]{36}$/i.test(value)) return value.toLowerCase();
  return undefined;
}
