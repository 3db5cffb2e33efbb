/**
 * The idempotency ledger: what a worker records per job so that a message delivered twice (a lock
 * that expired, a pod that died before `complete`, a publisher that retried) runs its handler once.
 *
 * Terms:
 * - job key: `{ scope, id }`. `id` is the idempotency key (the message's `idempotency-key`
 *   application property, else its root MessageId); `scope` is `topic/subscription`, because each
 *   subscription receives its own copy of a message and must run its own handler once.
 * - holder: one delivery on one worker (`<worker instance>/<counter>`, the instance a random UUID per
 *   process); never reused.
 * - claim: the holder's right to run the handler, for a lease; renewed while the handler is alive.
 *   A claim whose lease has expired (its holder died) can be taken over by another holder.
 * - outcome: recorded after the handler succeeded, with a TTL (default 7 days, longer than any
 *   redelivery or replay window); a key with an outcome is "done" and never runs again.
 * - checkpoint: the handler's last saved progress under the key; returned by the next claim.
 * - cancellation: a marker by idempotency key (every scope), with a TTL; a claim of a cancelled
 *   key reports it, a renewal reports it, and `onCancel` listeners hear of it at once.
 *
 * Only successes are recorded as outcomes: a job that failed or was dead-lettered can be retried or
 * replayed later and must run again.
 */

export interface LedgerKey {
  /** `topic/subscription`. */
  readonly scope: string;
  /** The idempotency key. */
  readonly id: string;
}

export interface LedgerOutcome {
  readonly status: "succeeded";
  /** Epoch ms when it was recorded. */
  readonly at: number;
  /** Which holder recorded it. */
  readonly holder: string;
}

export interface Cancellation {
  readonly reason: string;
  /** Epoch ms. */
  readonly requestedAt: number;
}

export type ClaimResult =
  | {
      readonly kind: "claimed";
      /** The last checkpoint saved under the key, if any. */
      readonly checkpoint: unknown;
      /** True when an earlier holder's expired claim was taken over (it died or stalled). */
      readonly takeover: boolean;
    }
  | { readonly kind: "done"; readonly outcome: LedgerOutcome }
  | {
      readonly kind: "held";
      readonly holder: string;
      /** When the other holder's lease runs out unless renewed (epoch ms, the store's clock). */
      readonly leaseExpiresAt: number;
      /** How long until then, measured by the store's clock. */
      readonly remainingMs: number;
    }
  | { readonly kind: "cancelled"; readonly cancellation: Cancellation };

export type RenewResult =
  | { readonly kind: "renewed" }
  /** The claim is gone: expired and taken over, completed, or released. */
  | { readonly kind: "lost" }
  | { readonly kind: "cancelled"; readonly cancellation: Cancellation };

export const DEFAULT_OUTCOME_TTL_MS = 7 * 24 * 60 * 60_000;

export interface LedgerStore {
  /** Claims `key` for `holder` for `leaseMs`, unless it is done, held by a live holder, or cancelled. */
  claim(key: LedgerKey, holder: string, leaseMs: number): Promise<ClaimResult>;
  /** Extends the holder's lease; also reports a cancellation of the key. */
  renew(key: LedgerKey, holder: string, leaseMs: number): Promise<RenewResult>;
  /**
   * Records the outcome (the key is done for `ttlMs`) and drops the claim and the checkpoint.
   * Recorded even if the holder's lease was lost meanwhile (the handler did run); returns false
   * when the key was already done.
   */
  complete(key: LedgerKey, holder: string, outcome: LedgerOutcome, ttlMs?: number): Promise<boolean>;
  /** Gives the claim up (the job failed or was interrupted); the checkpoint stays. */
  release(key: LedgerKey, holder: string): Promise<void>;
  /** Saves a checkpoint if `holder` still holds the claim; false otherwise (nothing written). */
  setCheckpoint(key: LedgerKey, holder: string, state: unknown): Promise<boolean>;
  getCheckpoint(key: LedgerKey): Promise<unknown>;
  /** Marks the idempotency key `id` cancelled for `ttlMs` and notifies every `onCancel` listener. */
  cancel(id: string, cancellation: Cancellation, ttlMs?: number): Promise<void>;
  cancellation(id: string): Promise<Cancellation | undefined>;
  clearCancellation(id: string): Promise<void>;
  /** Calls `listener` for each cancellation from now on (any process sharing the store). */
  onCancel(listener: (id: string, cancellation: Cancellation) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Checkpoints are JSON: what cannot be serialized cannot be resumed on another pod. */
export function encodeJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError("checkpoint state must be JSON-serializable");
  return text;
}

export function decodeJson(text: string | null | undefined): unknown {
  return text === null || text === undefined ? undefined : (JSON.parse(text) as unknown);
}
