/**
 * Where schedules keep their shared state in the ledger store, and the observer hooks they call.
 *
 * Keys (scope `sbw-schedule`; the ids carry the prefix too, so a `CancelJob` by idempotency key
 * can never name them by accident):
 * - `sbw-schedules:book`: the schedule book (./book.ts), the checkpoint of a claim that each
 *   scheduler cycle takes and releases, which serializes the cycles of all pods;
 * - `sbw-schedule:<name>`: the running flag of an `overlap: false` schedule (a claim with a lease,
 *   renewed while a tick runs);
 * - `sbw-schedule:<name>:last`: the last outcome of the schedule's ticks (for `sbworker schedules`).
 * The ledger's own records of tick jobs live under their usual keys (`topic/subscription`, tick id).
 */
import type { LedgerKey, LedgerStore } from "../ledger/types.js";
import { parseBook, type Book } from "./book.js";

export const SCHEDULE_SCOPE = "sbw-schedule";
export const BOOK_KEY: LedgerKey = { scope: SCHEDULE_SCOPE, id: "sbw-schedules:book" };

export function runningKey(name: string): LedgerKey {
  return { scope: SCHEDULE_SCOPE, id: `sbw-schedule:${name}` };
}

export function lastOutcomeKey(name: string): LedgerKey {
  return { scope: SCHEDULE_SCOPE, id: `sbw-schedule:${name}:last` };
}

export type TickOutcome = "succeeded" | "failed" | "skipped-stale" | "skipped-overlap";

export interface LastOutcome {
  /** The tick's fire time (ISO 8601 UTC). */
  readonly tick: string;
  readonly outcome: TickOutcome;
  /** Epoch ms when it was recorded. */
  readonly at: number;
  readonly attempt: number;
  readonly error?: string;
}

/** Hooks for telemetry and tests; they must be cheap and must not throw. */
export interface ScheduleObserver {
  /** A scheduler cycle scheduled future ticks and sent catch-up ticks (counts include duplicates). */
  cycle?(event: {
    readonly pod: string;
    readonly scheduled: number;
    readonly caughtUp: number;
    readonly outdated: readonly string[];
  }): void;
  /** A schedule's definition changed (or it was removed); `cancelled` scheduled ticks were cancelled. */
  changed?(event: {
    readonly schedule: string;
    readonly from: string | null;
    readonly to: string | null;
    readonly cancelled: number;
  }): void;
  /** A tick was completed without running its handler. */
  tickSkipped?(event: {
    readonly schedule: string;
    readonly tick: string;
    readonly why: "stale" | "overlap";
  }): void;
  /** A tick's handler ran (`ok`: it returned). */
  tickRan?(event: { readonly schedule: string; readonly tick: string; readonly ok: boolean }): void;
}

/** The book as stored, or undefined when there is none yet. */
export async function readBook(store: LedgerStore): Promise<Book | undefined> {
  const value = await store.getCheckpoint(BOOK_KEY);
  return value === undefined ? undefined : parseBook(value);
}

export async function readLastOutcome(store: LedgerStore, name: string): Promise<LastOutcome | undefined> {
  const value = await store.getCheckpoint(lastOutcomeKey(name));
  if (value === null || typeof value !== "object") return undefined;
  return value as LastOutcome;
}

/**
 * Records a schedule's last outcome: claim, checkpoint, release. Gives up quietly when another
 * pod is writing the same record at this moment (its outcome is as recent as ours).
 */
export async function writeLastOutcome(
  store: LedgerStore,
  name: string,
  holder: string,
  outcome: LastOutcome,
): Promise<boolean> {
  const key = lastOutcomeKey(name);
  const claim = await store.claim(key, holder, 10_000);
  if (claim.kind !== "claimed") return false;
  try {
    return await store.setCheckpoint(key, holder, outcome);
  } finally {
    await store.release(key, holder);
  }
}
