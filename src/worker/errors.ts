/**
 * Errors a handler (or the worker) raises, each with a `code` from a documented union and an `isX`
 * guard. Guards check a brand, not `instanceof`, so they hold across duplicated module copies.
 *
 * A handler says "don't retry" by throwing a `PermanentError` (or a subclass with its own code):
 * the worker dead-letters the message at once with `DeadLetterReason = err.code`. A
 * `TransientError` (or any other error) is retried with backoff up to the subscription's
 * `maxAttempts`, then dead-lettered with `MaxAttemptsExceeded`.
 */

/**
 * The codes the worker knows.
 * - `PermanentError`: a handler's "never retry" (subclasses may use their own code).
 * - `InvalidTransition`: a state machine rejected an event (reference domain; permanent).
 * - `TransientError`: worth retrying later.
 * - `ConfigError`: the environment is invalid; the process does not start.
 */
export type WorkerErrorCode = "PermanentError" | "InvalidTransition" | "TransientError" | "ConfigError";

/** Dead-letter reasons the worker writes (`DeadLetterReason`), besides permanent error codes. */
export type DeadLetterReason = "SchemaValidationFailed" | "NoHandler" | "MaxAttemptsExceeded";

const PERMANENT = Symbol.for("sbworker.PermanentError");
const TRANSIENT = Symbol.for("sbworker.TransientError");
const CONFIG = Symbol.for("sbworker.ConfigError");

function branded(error: unknown, brand: symbol): boolean {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}

/** Never retried: dead-lettered at once with `reason = code`. */
export class PermanentError extends Error {
  readonly [PERMANENT] = true;
  /** The dead-letter reason; `PermanentError` unless a subclass or the caller names another. */
  readonly code: string;
  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? "PermanentError";
  }
}

export function isPermanentError(error: unknown): error is PermanentError {
  return branded(error, PERMANENT);
}

/** A state machine refused an event (e.g. `OrderShipped` before `PaymentCaptured`). */
export class InvalidTransitionError extends PermanentError {
  readonly from: string;
  readonly event: string;
  constructor(from: string, event: string) {
    super(`cannot apply ${event} in state ${from}`, { code: "InvalidTransition" });
    this.from = from;
    this.event = event;
  }
}

export function isInvalidTransitionError(error: unknown): error is InvalidTransitionError {
  return isPermanentError(error) && error.code === "InvalidTransition";
}

/** Worth retrying; `retryAfterMs` raises the next backoff delay (e.g. from a 429's Retry-After). */
export class TransientError extends Error {
  readonly [TRANSIENT] = true;
  readonly code = "TransientError" as const;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { retryAfterMs?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function isTransientError(error: unknown): error is TransientError {
  return branded(error, TRANSIENT);
}

/** The environment is invalid; `issues` name each key and the expected form. */
export class ConfigError extends Error {
  readonly [CONFIG] = true;
  readonly code = "ConfigError" as const;
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid configuration: ${issues.join("; ")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function isConfigError(error: unknown): error is ConfigError {
  return branded(error, CONFIG);
}

/** An abort reason: the worker is draining and the drain timeout has passed. */
export class DrainTimeoutError extends Error {
  readonly code = "DrainTimeout" as const;
  constructor() {
    super("drain timeout: the worker is shutting down");
    this.name = "DrainTimeoutError";
  }
}

/**
 * A settlement the broker did not answer in time (the worker's operation timeout). The broker may
 * still apply it; if not, the lock expires and the message is redelivered.
 */
export class SettleTimeoutError extends Error {
  readonly code = "SettleTimeout" as const;
  constructor(readonly timeoutMs: number) {
    super(`the broker did not answer the settlement within ${timeoutMs} ms`);
    this.name = "SettleTimeoutError";
  }
}

export function isSettleTimeoutError(error: unknown): error is SettleTimeoutError {
  return error instanceof SettleTimeoutError;
}

/**
 * A step of the shutdown that did not finish within its time (closing a Service Bus link or
 * connection that a network partition holds, say). The worker stops waiting for it and goes on;
 * what it held is freed when the broker notices the connection is gone, or when locks expire.
 */
export class CloseTimeoutError extends Error {
  readonly code = "CloseTimeout" as const;
  constructor(
    readonly step: string,
    readonly timeoutMs: number,
  ) {
    super(`${step} did not finish within ${timeoutMs} ms; left behind`);
    this.name = "CloseTimeoutError";
  }
}

export function isCloseTimeoutError(error: unknown): error is CloseTimeoutError {
  return error instanceof CloseTimeoutError;
}
