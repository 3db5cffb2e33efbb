/**
 * Messages a client sends to a queue or topic: a single transfer (format 0, decoded by rhea) or
 * a batch (format 0x80013700: an envelope whose data sections each hold one encoded message).
 * The whole transfer is accepted or rejected; a batch never lands half-way.
 */
import type { Incoming } from "../broker/incoming.js";
import type { Namespace } from "../broker/namespace.js";
import { BrokerError, Condition } from "../broker/errors.js";
import { toAmqpError } from "./delivery-link.js";
import { batchParts, decodeHead } from "../broker/message.js";
import { message as amqp } from "./rhea.js";
import type { AmqpMessage, RheaContext } from "./rhea.js";

const BATCH_FORMAT = 0x80013700;

export function acceptIncoming(ns: Namespace, address: string, ctx: RheaContext, maxSize: number): void {
  try {
    ns.send(address, unpack(ctx, maxSize), undefined, maxSize);
    ctx.delivery.accept();
  } catch (error) {
    ctx.delivery.reject(toAmqpError(error));
  }
}

function unpack(ctx: RheaContext, maxSize: number): Incoming[] {
  const format = (ctx.format as number | undefined) ?? 0;
  if (format === 0) return [{ decoded: ctx.message as AmqpMessage, raw: undefined }];
  if (format !== BATCH_FORMAT) {
    throw new BrokerError(Condition.notImplemented, `Message format ${format} is not supported.`);
  }
  const raw = ctx.message as Buffer;
  if (raw.length > maxSize) throw sizeExceeded(raw.length, maxSize);
  const parts = batchParts(raw) ?? envelopeParts(raw);
  return parts.map((part) => {
    try {
      // Only the head is decoded: the body travels as bytes, and a copy that a rule action
      // edits is decoded in full where that happens (see Namespace.fanOut).
      const head = decodeHead(part);
      return head !== undefined
        ? { decoded: head, raw: part, partial: true }
        : { decoded: amqp.decode(part), raw: part };
    } catch (error) {
      throw new BrokerError(
        Condition.decodeError,
        `A message in the batch could not be decoded: ${String(error)}`,
      );
    }
  });
}

/** The generic path for envelopes in an unusual layout. */
function envelopeParts(raw: Buffer): Buffer[] {
  let envelope: AmqpMessage;
  try {
    envelope = amqp.decode(raw);
  } catch (error) {
    throw new BrokerError(Condition.decodeError, `The batch could not be decoded: ${String(error)}`);
  }
  const body = envelope.body as { content?: unknown; multiple?: boolean } | undefined;
  const parts = body?.multiple
    ? (body.content as unknown[])
    : body?.content !== undefined
      ? [body.content]
      : [];
  return parts.map((part) => {
    if (!Buffer.isBuffer(part))
      throw new BrokerError(Condition.decodeError, "A batch section is not binary data.");
    return part;
  });
}

export function sizeExceeded(size: number, max: number): BrokerError {
  return new BrokerError(
    Condition.messageSizeExceeded,
    `The received message (size ${size} bytes) exceeds the limit (${max} bytes) currently allowed on the link.`,
  );
}
