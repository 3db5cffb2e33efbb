/**
 * Why a handler's `ctx.signal` aborted: `signal.reason` is one of these, each with a `code`.
 *
 * | code           | when                                                      | the message is        |
 * |----------------|-----------------------------------------------------------|-----------------------|
 * | `Stalled`      | the handler heartbeated, then stayed silent > stallTimeout | abandoned (retried)   |
 * | `LockLost`     | renewing the message or session lock (or the ledger claim) failed for good | not settled (the broker redelivers) |
 * | `Cancelled`    | a `CancelJob` for its idempotency key                      | dead-lettered `Cancelled` |
 * | `DrainTimeout` | the worker is shutting down and the drain timeout passed   | abandoned             |
 *
 * A handler checks `ctx.signal.aborted` (or calls `ctx.signal.throwIfAborted()`) before each side
 * effect; the worker stops waiting for it the moment the signal aborts.
 */
import { DrainTimeoutError } from "../errors.js";

export type AbortCode = "Stalled" | "LockLost" | "Cancelled" | "DrainTimeout";

export class StalledError extends Error {
  readonly code = "Stalled" as const;
  constructor(readonly silentMs: number) {
    super(`stalled: no heartbeat for ${silentMs} ms`);
    this.name = "StalledError";
  }
}

export class LockLostError extends Error {
  readonly code = "LockLost" as const;
  constructor(
    readonly lock: "message" | "session" | "claim",
    options?: { cause?: unknown },
  ) {
    super(`the ${lock} lock was lost`, options);
    this.name = "LockLostError";
  }
}

export class CancelledError extends Error {
  readonly code = "Cancelled" as const;
  constructor(
    readonly reason: string,
    /** False when the job was cancelled before its handler started. */
    readonly started = true,
  ) {
    super(`cancelled: ${reason}`);
    this.name = "CancelledError";
  }
}

export { DrainTimeoutError };

export type JobAbortError = StalledError | LockLostError | CancelledError | DrainTimeoutError;

const CODES: readonly string[] = ["Stalled", "LockLost", "Cancelled", "DrainTimeout"];

export function isJobAbort(reason: unknown): reason is JobAbortError {
  return reason instanceof Error && CODES.includes(String((reason as { code?: unknown }).code));
}

export function abortCode(reason: unknown): AbortCode | undefined {
  return isJobAbort(reason) ? reason.code : undefined;
}
