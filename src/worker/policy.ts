/**
 * The settlement policy: a pure function from what happened to a delivery to how it is settled.
 * Both consumers (plain and session) call it; only how they carry out a `retry` differs (a
 * scheduled copy for plain subscriptions, a wait with the session lock held for sessions).
 *
 * | outcome                       | settlement                                             |
 * |-------------------------------|--------------------------------------------------------|
 * | success                       | complete                                               |
 * | invalid body (JSON / contract)| deadLetter `SchemaValidationFailed`                    |
 * | no handler for the subject    | deadLetter `NoHandler`                                 |
 * | handler threw a permanent error | deadLetter `<err.code>`                              |
 * | any other error, attempt < max| retry after backoff(attempt) (full jitter, capped)     |
 * | any other error, attempt >= max| deadLetter `MaxAttemptsExceeded`                      |
 * | interrupted by the drain      | abandon (redelivered at once to another worker)        |
 * | interrupted: Stalled, LockLost| abandon (a lost lock is not settled at all: consumers) |
 * | interrupted: Cancelled        | deadLetter `Cancelled`                                 |
 */
import type { BackoffOptions } from "./backoff.js";
import { backoffDelay } from "./backoff.js";
import { isPermanentError, isTransientError } from "./errors.js";

export type Outcome =
  | { readonly kind: "success" }
  | { readonly kind: "invalidBody"; readonly detail: string }
  | { readonly kind: "noHandler"; readonly subject: string | undefined }
  | { readonly kind: "failed"; readonly error: unknown }
  /** `ctx.signal` aborted; `reason` is its reason (src/worker/jobs/abort.ts). */
  | { readonly kind: "interrupted"; readonly reason?: unknown };

export type Settlement =
  | { readonly kind: "complete" }
  | { readonly kind: "deadLetter"; readonly reason: string; readonly description: string }
  | { readonly kind: "retry"; readonly delayMs: number; readonly nextAttempt: number }
  | { readonly kind: "abandon" };

export interface SettlementInput {
  readonly outcome: Outcome;
  /** 1-based attempt number of the delivery that produced the outcome. */
  readonly attempt: number;
  /** `topic/subscription/subject`, for the dead-letter description. */
  readonly handler: string;
  readonly policy: { readonly maxAttempts: number; readonly backoff: BackoffOptions };
  /** Seam for tests; defaults to `Math.random`. */
  readonly random?: () => number;
}

/** Dead-letter descriptions are capped by the broker (4 KB of properties); keep messages short. */
const MAX_MESSAGE_LENGTH = 1_000;

export interface DeadLetterDescription {
  readonly handler: string;
  readonly error: { readonly class: string; readonly code?: string; readonly message: string };
  readonly attempt: number;
}

export function describe(handler: string, attempt: number, error: DeadLetterDescription["error"]): string {
  const message =
    error.message.length > MAX_MESSAGE_LENGTH
      ? `${error.message.slice(0, MAX_MESSAGE_LENGTH)}…`
      : error.message;
  const description: DeadLetterDescription = { handler, error: { ...error, message }, attempt };
  return JSON.stringify(description);
}

function errorSummary(error: unknown): DeadLetterDescription["error"] {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { class: error.name, ...(typeof code === "string" ? { code } : {}), message: error.message };
  }
  return { class: typeof error, message: String(error) };
}

export function decideSettlement(input: SettlementInput): Settlement {
  const { outcome, attempt, handler, policy } = input;
  switch (outcome.kind) {
    case "success":
      return { kind: "complete" };
    case "interrupted":
      if ((outcome.reason as { code?: unknown } | undefined)?.code === "Cancelled") {
        return {
          kind: "deadLetter",
          reason: "Cancelled",
          description: describe(handler, attempt, errorSummary(outcome.reason)),
        };
      }
      return { kind: "abandon" };
    case "invalidBody":
      return {
        kind: "deadLetter",
        reason: "SchemaValidationFailed",
        description: describe(handler, attempt, { class: "SchemaValidationFailed", message: outcome.detail }),
      };
    case "noHandler":
      return {
        kind: "deadLetter",
        reason: "NoHandler",
        description: describe(handler, attempt, {
          class: "NoHandler",
          message: `no handler for subject ${outcome.subject === undefined ? "(none)" : JSON.stringify(outcome.subject)}`,
        }),
      };
    case "failed": {
      const summary = errorSummary(outcome.error);
      if (isPermanentError(outcome.error)) {
        return {
          kind: "deadLetter",
          reason: outcome.error.code,
          description: describe(handler, attempt, summary),
        };
      }
      if (attempt >= policy.maxAttempts) {
        return {
          kind: "deadLetter",
          reason: "MaxAttemptsExceeded",
          description: describe(handler, attempt, summary),
        };
      }
      let delayMs = backoffDelay(attempt, policy.backoff, input.random);
      if (isTransientError(outcome.error) && outcome.error.retryAfterMs !== undefined) {
        delayMs = Math.min(policy.backoff.maxMs, Math.max(delayMs, outcome.error.retryAfterMs));
      }
      return { kind: "retry", delayMs, nextAttempt: attempt + 1 };
    }
  }
}
