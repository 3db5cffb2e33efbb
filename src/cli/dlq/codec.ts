/**
 * The export file: JSON Lines, one dead letter per line, readable and editable, byte-exact.
 *
 * Body (data section, the usual case): `bodyEncoding` says how `body` holds the exact bytes:
 * - `json`: the bytes are UTF-8 JSON that `JSON.stringify` reproduces byte for byte (what the SDK
 *   sends for objects), so the body is shown as the JSON value itself, easy to edit;
 * - `utf8`: other valid UTF-8 text, as a string;
 * - `base64`: anything else (binary).
 * AMQP value / sequence bodies (`bodyType`) are kept as tagged JSON values.
 *
 * Values JSON cannot carry keep their type with a tag: `{"$date": "<ISO>"}` for AMQP timestamps,
 * `{"$binary": "<base64>"}` for binary, `{"$long": "<decimal>"}` for integers beyond 2^53.
 * Message and correlation ids use the same encoding (strings stay strings).
 */
import { z } from "zod";
import type { ServiceBusMessage, ServiceBusReceivedMessage } from "@azure/service-bus";
import { DlqError } from "./errors.js";
import { replayCountOf, type MessageView } from "./view.js";

export type BodyEncoding = "json" | "utf8" | "base64";

export interface ExportRecord {
  /** Where it was exported from (`orders/audit`). */
  readonly entity?: string;
  readonly sequenceNumber?: string;
  readonly messageId?: unknown;
  readonly enqueuedTimeUtc?: string;
  readonly deliveryCount?: number;
  readonly deadLetterReason?: string;
  readonly deadLetterErrorDescription?: string;
  readonly deadLetterSource?: string;
  readonly bodyType: "data" | "value" | "sequence";
  readonly bodyEncoding?: BodyEncoding;
  readonly body: unknown;
  readonly contentType?: string;
  readonly subject?: string;
  readonly correlationId?: unknown;
  readonly sessionId?: string;
  readonly replyTo?: string;
  readonly replyToSessionId?: string;
  readonly to?: string;
  readonly partitionKey?: string;
  readonly timeToLive?: number;
  readonly applicationProperties?: Readonly<Record<string, unknown>>;
  /** Broker annotations (`x-opt-*`), for reading; send-file does not send them. */
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/** A JS value as tagged JSON. */
export function encodeValue(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.toISOString() };
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return { $binary: Buffer.from(value).toString("base64") };
  if (typeof value === "bigint") return { $long: value.toString() };
  if (Array.isArray(value)) return value.map(encodeValue);
  if (value !== null && typeof value === "object") {
    // A Long (sequence numbers in annotations) prints as its decimal value.
    if ("high" in value && "low" in value && typeof (value as { toString?: unknown }).toString === "function")
      return { $long: (value as { toString(): string }).toString() };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeValue(v)]));
  }
  return value;
}

/** The inverse of encodeValue. */
export function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === "object") {
    const entries: [string, unknown][] = Object.entries(value);
    if (entries.length === 1) {
      const [tag, inner] = entries[0]!;
      if (tag === "$date" && typeof inner === "string") return new Date(inner);
      if (tag === "$binary" && typeof inner === "string") return Buffer.from(inner, "base64");
      if (tag === "$long" && typeof inner === "string") return BigInt(inner);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, decodeValue(v)]));
  }
  return value;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function encodeBody(bytes: Buffer): { bodyEncoding: BodyEncoding; body: unknown } {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { bodyEncoding: "base64", body: bytes.toString("base64") };
  }
  // A BOM would be dropped by TextDecoder; keep such bodies byte-exact as base64.
  if (Buffer.from(text, "utf8").equals(bytes) === false)
    return { bodyEncoding: "base64", body: bytes.toString("base64") };
  try {
    const parsed: unknown = JSON.parse(text);
    if (JSON.stringify(parsed) === text) return { bodyEncoding: "json", body: parsed };
  } catch {
    // Not JSON: fall through to text.
  }
  return { bodyEncoding: "utf8", body: text };
}

export function decodeBody(encoding: BodyEncoding, body: unknown, where: string): Buffer {
  switch (encoding) {
    case "json":
      return Buffer.from(JSON.stringify(body), "utf8");
    case "utf8":
      if (typeof body !== "string")
        throw new DlqError("BadFile", `${where}: bodyEncoding utf8 needs a string body`);
      return Buffer.from(body, "utf8");
    case "base64":
      if (typeof body !== "string")
        throw new DlqError("BadFile", `${where}: bodyEncoding base64 needs a string body`);
      return Buffer.from(body, "base64");
  }
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A received dead letter (skipParsingBodyAsJson, skipConvertingDate) as an export line. */
export function toRecord(message: ServiceBusReceivedMessage, entity: string): ExportRecord {
  const raw = message._rawAmqpMessage;
  const bodyType = raw.bodyType ?? "data";
  const body =
    bodyType === "data" && Buffer.isBuffer(message.body)
      ? encodeBody(message.body)
      : { bodyEncoding: undefined, body: encodeValue(message.body) };
  return defined({
    entity,
    sequenceNumber: message.sequenceNumber?.toString(),
    messageId: encodeValue(message.messageId),
    enqueuedTimeUtc: message.enqueuedTimeUtc?.toISOString(),
    deliveryCount: message.deliveryCount,
    deadLetterReason: typeof message.deadLetterReason === "string" ? message.deadLetterReason : undefined,
    deadLetterErrorDescription:
      typeof message.deadLetterErrorDescription === "string" ? message.deadLetterErrorDescription : undefined,
    deadLetterSource: message.deadLetterSource,
    bodyType: bodyType === "data" && !Buffer.isBuffer(message.body) ? "value" : bodyType,
    ...body,
    contentType: message.contentType,
    subject: message.subject,
    correlationId: encodeValue(message.correlationId),
    sessionId: message.sessionId,
    replyTo: message.replyTo,
    replyToSessionId: message.replyToSessionId,
    to: message.to,
    partitionKey: message.partitionKey,
    timeToLive: message.timeToLive,
    applicationProperties: message.applicationProperties
      ? (encodeValue(message.applicationProperties) as Record<string, unknown>)
      : undefined,
    annotations: raw.messageAnnotations
      ? (encodeValue(raw.messageAnnotations) as Record<string, unknown>)
      : undefined,
  });
}

const optionalString = z.string().optional();
const recordSchema = z.object({
  entity: optionalString,
  sequenceNumber: z.string().regex(/^\d+$/, "expected a decimal string").optional(),
  messageId: z.unknown().optional(),
  enqueuedTimeUtc: z.iso.datetime({ offset: true }).optional(),
  deliveryCount: z.number().int().nonnegative().optional(),
  deadLetterReason: optionalString,
  deadLetterErrorDescription: optionalString,
  deadLetterSource: optionalString,
  bodyType: z.enum(["data", "value", "sequence"]).default("data"),
  bodyEncoding: z.enum(["json", "utf8", "base64"]).optional(),
  body: z.unknown(),
  contentType: optionalString,
  subject: optionalString,
  correlationId: z.unknown().optional(),
  sessionId: z.string().max(128).optional(),
  replyTo: optionalString,
  replyToSessionId: optionalString,
  to: optionalString,
  partitionKey: z.string().max(128).optional(),
  timeToLive: z.number().int().positive().optional(),
  applicationProperties: z.record(z.string(), z.unknown()).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

/** One line of an export file; `where` is `file:line` for error messages. */
export function parseRecord(line: string, where: string): ExportRecord {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    throw new DlqError("BadFile", `${where}: not JSON (${(error as Error).message})`);
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DlqError("BadFile", `${where}: ${issue.path.join(".") || "(line)"}: ${issue.message}`);
  }
  const record = parsed.data;
  if (record.bodyType === "data" && record.bodyEncoding === undefined)
    throw new DlqError("BadFile", `${where}: a data body needs bodyEncoding (json, utf8 or base64)`);
  return record;
}

export function parseExportFile(text: string, file: string): ExportRecord[] {
  return text
    .split("\n")
    .map((line, i) => ({ line, where: `${file}:${i + 1}` }))
    .filter(({ line }) => line.trim() !== "")
    .map(({ line, where }) => parseRecord(line, where));
}

function idOf(value: unknown): string | undefined {
  const decoded = decodeValue(value);
  if (decoded === undefined || decoded === null) return undefined;
  if (Buffer.isBuffer(decoded)) return decoded.toString("hex");
  if (typeof decoded === "string") return decoded;
  if (typeof decoded === "number" || typeof decoded === "bigint" || typeof decoded === "boolean")
    return decoded.toString();
  return JSON.stringify(decoded);
}

/** A record as the selection sees it (so send-file takes the same filters as the other commands). */
export function viewOfRecord(record: ExportRecord): MessageView {
  const props = (decodeValue(record.applicationProperties ?? {}) ?? {}) as Record<string, unknown>;
  return {
    sequenceNumber: record.sequenceNumber === undefined ? undefined : BigInt(record.sequenceNumber),
    messageId: idOf(record.messageId),
    subject: record.subject,
    sessionId: record.sessionId,
    correlationId: idOf(record.correlationId),
    contentType: record.contentType,
    to: record.to,
    replyTo: record.replyTo,
    replyToSessionId: record.replyToSessionId,
    partitionKey: record.partitionKey,
    enqueuedTimeUtc: record.enqueuedTimeUtc === undefined ? undefined : new Date(record.enqueuedTimeUtc),
    deliveryCount: record.deliveryCount,
    timeToLive: record.timeToLive,
    deadLetterReason: record.deadLetterReason,
    deadLetterErrorDescription: record.deadLetterErrorDescription,
    deadLetterSource: record.deadLetterSource,
    applicationProperties: props,
    replayCount: replayCountOf(props),
  };
}

type MessageIdValue = ServiceBusMessage["messageId"];

/**
 * The message a record stands for, before routing: same body bytes (or AMQP value), same
 * properties. `DeadLetterReason` / `DeadLetterErrorDescription` are not sent: they describe the
 * dead letter, not the message. Value/sequence bodies return `bodyType` for an annotated send.
 */
export function recordToMessage(
  record: ExportRecord,
  where: string,
): { message: ServiceBusMessage; bodyType: "data" | "value" | "sequence" } {
  const body =
    record.bodyType === "data"
      ? decodeBody(record.bodyEncoding ?? "base64", record.body, where)
      : decodeValue(record.body);
  const applicationProperties = decodeValue(record.applicationProperties ?? {}) as Record<
    string,
    string | number | boolean | Date | null
  >;
  delete applicationProperties.DeadLetterReason;
  delete applicationProperties.DeadLetterErrorDescription;
  const messageId = decodeValue(record.messageId) as MessageIdValue;
  const correlationId = decodeValue(record.correlationId) as ServiceBusMessage["correlationId"];
  const message: ServiceBusMessage = defined({
    body,
    messageId: messageId ?? undefined,
    contentType: record.contentType,
    subject: record.subject,
    correlationId: correlationId ?? undefined,
    sessionId: record.sessionId,
    replyTo: record.replyTo,
    replyToSessionId: record.replyToSessionId,
    to: record.to,
    partitionKey: record.partitionKey,
    timeToLive: record.timeToLive,
    applicationProperties,
  });
  return { message, bodyType: record.bodyType };
}
