/**
 * Publisher errors: one class, a documented `code`, and an `isPublishError` guard.
 *
 * | code             | meaning                                                   | retried by the publisher |
 * |------------------|-----------------------------------------------------------|--------------------------|
 * | UnknownTopic     | the topic is not in the topology                          | no                       |
 * | UnknownSubject   | the topic has no such subject                             | no                       |
 * | InvalidPayload   | the payload fails the subject's contract                  | no                       |
 * | InvalidOptions   | e.g. `scheduledAt` is not a valid Date                    | no                       |
 * | MessageTooLarge  | bigger than the entity's maximum message size             | no                       |
 * | Unauthorized     | the identity has no Send right on the topic               | no                       |
 * | EntityNotFound   | the topic does not exist on the namespace                 | no                       |
 * | Transient        | busy, timeout, connection lost: attempts are exhausted     | yes, up to `maxAttempts` |
 * | SendFailed       | any other broker or SDK error                             | no                       |
 * | Closed           | `publish` after `close()`                                 | no                       |
 */
import { isServiceBusError } from "@azure/service-bus";
import { lastAttempt } from "./lastAttempt.js";

export type PublishErrorCode =
  | "UnknownTopic"
  | "UnknownSubject"
  | "InvalidPayload"
  | "InvalidOptions"
  | "MessageTooLarge"
  | "Unauthorized"
  | "EntityNotFound"
  | "Transient"
  | "SendFailed"
  | "Closed";

export interface PublishErrorDetails {
  readonly cause?: unknown;
  /** Send attempts made (broker errors only). */
  readonly attempts?: number;
  /** `publishBatch`: what was sent before the failure (those messages are on the bus). */
  readonly published?: readonly { readonly messageId: string }[];
}

export class PublishError extends Error {
  readonly code: PublishErrorCode;
  readonly attempts: number;
  readonly published: readonly { readonly messageId: string }[];

  constructor(code: PublishErrorCode, message: string, details: PublishErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "PublishError";
    this.code = code;
    this.attempts = details.attempts ?? 0;
    this.published = details.published ?? [];
  }
}

export function isPublishError(error: unknown): error is PublishError {
  return error instanceof PublishError;
}

const TRANSIENT_SB_CODES = new Set(["ServiceBusy", "ServiceTimeout", "ServiceCommunicationProblem"]);
const TRANSIENT_NET_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"]);

/**
 * Busy, timeout or connection trouble: worth another attempt (the MessageId is deterministic).
 * When the SDK's own retries run out it throws an AggregateError of every attempt's error (empty
 * message, no code): transient when any of them was, which is core-amqp's rule for `retryable`.
 * A socket that could not connect surfaces as a MessagingError that keeps the system error's
 * `syscall` (code "GeneralError", `retryable: false`): transient too, which is what it is.
 */
export function isTransientSendError(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isTransientSendError);
  if (isServiceBusError(error)) return error.retryable || TRANSIENT_SB_CODES.has(error.code);
  const e = error as { code?: unknown; syscall?: unknown } | null;
  if (typeof e?.syscall === "string") return true;
  return typeof e?.code === "string" && TRANSIENT_NET_CODES.has(e.code);
}

/** The PublishError for a failed send (after `attempts` attempts). */
export function toPublishError(error: unknown, topic: string, attempts: number): PublishError {
  if (isPublishError(error)) return error;
  const last = lastAttempt(error);
  const text = last instanceof Error ? last.message : String(last);
  const details = { cause: error, attempts };
  if (isServiceBusError(last)) {
    if (last.code === "MessageSizeExceeded")
      return new PublishError("MessageTooLarge", `${topic}: ${text}`, details);
    if (last.code === "UnauthorizedAccess")
      return new PublishError("Unauthorized", `${topic}: not allowed to send: ${text}`, details);
    if (last.code === "MessagingEntityNotFound")
      return new PublishError("EntityNotFound", `${topic}: no such topic: ${text}`, details);
  }
  if (isTransientSendError(error))
    return new PublishError("Transient", `${topic}: gave up after ${attempts} attempts: ${text}`, details);
  return new PublishError("SendFailed", `${topic}: ${text}`, details);
}
