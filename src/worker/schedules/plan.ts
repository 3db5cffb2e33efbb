/**
 * The planner: which ticks of one schedule a worker sends now. Pure (no clock, no I/O).
 *
 * - future ticks: every fire time in (now, now + horizon]. Each worker schedules them on every
 *   cycle (every horizon / 3); the broker keeps one copy per tick id, because a tick is first
 *   scheduled at most `horizon` before it fires and the topic's duplicate-detection window is longer.
 * - catch-up ticks: fire times in (through, now], where `through` is how far ticks had been
 *   scheduled by any worker (the book's watermark). Nothing scheduled them, so no worker ran for a
 *   while; the schedule's `catchUp` policy picks which to send at once, with their original ids:
 *   `none` none, `latest` the last one, `{ all: n }` the last n, oldest first. Unknown `through`
 *   (the schedule is new) means nothing was missed. Catch-up never looks further back than
 *   `maxCatchUpMs` (default: the ledger's outcome TTL, beyond which it could not tell a tick that ran
 *   from one that did not).
 */
import type { CatchUpPolicy, ScheduleTrigger } from "../../topics/scheduleDsl.js";
import { DEFAULT_OUTCOME_TTL_MS } from "../ledger/types.js";
import { nextTicks, ticksBetween } from "./ticks.js";

export interface PlanInput {
  readonly trigger: ScheduleTrigger;
  readonly catchUp: CatchUpPolicy;
  /** Epoch ms. */
  readonly now: number;
  readonly horizonMs: number;
  /** The watermark: ticks up to this instant were scheduled; undefined for a new schedule. */
  readonly through: number | undefined;
  readonly maxCatchUpMs?: number;
  /** Guard against absurdly dense schedules (default 1000 ticks per horizon). */
  readonly maxFutureTicks?: number;
}

export interface Plan {
  /** To schedule at their fire times (ascending). */
  readonly future: readonly number[];
  /** To send at once (ascending). */
  readonly catchUp: readonly number[];
  /** The missed interval when there was one (`from` exclusive, `to` inclusive). */
  readonly gap: { readonly from: number; readonly to: number } | undefined;
  /** The new watermark: now + horizon (never moves back). */
  readonly through: number;
}

/** How many missed ticks the policy sends. */
export function catchUpCount(policy: CatchUpPolicy): number {
  if (policy === "none") return 0;
  if (policy === "latest") return 1;
  return policy.all;
}

/**
 * The last `count` fire times in (from, to], ascending. Searches backwards from `to` with a
 * window that grows fourfold, starting from the schedule's spacing, so a dense schedule with a
 * long gap costs about as much as the ticks it returns (cron-parser takes ~0.1 ms per tick).
 */
export function lastTicks(trigger: ScheduleTrigger, from: number, to: number, count: number): number[] {
  if (count <= 0 || to <= from) return [];
  const [a, b] = nextTicks(trigger, to, 2);
  const spacing = a !== undefined && b !== undefined ? b - a : 3_600_000;
  let span = Math.max(60_000, (count + 1) * spacing);
  for (;;) {
    const lo = Math.max(from, to - span);
    const found = ticksBetween(trigger, lo, to, Number.MAX_SAFE_INTEGER);
    if (found.length >= count || lo === from) return found.slice(-count);
    span *= 4;
  }
}

export function planTicks(input: PlanInput): Plan {
  const { trigger, now, horizonMs } = input;
  if (!(horizonMs > 0)) throw new RangeError(`horizonMs must be positive, got ${horizonMs}`);
  const future = ticksBetween(trigger, now, now + horizonMs, input.maxFutureTicks ?? 1_000);
  const through = Math.max(now + horizonMs, input.through ?? Number.NEGATIVE_INFINITY);
  if (input.through === undefined || input.through >= now) {
    return { future, catchUp: [], gap: undefined, through };
  }
  const maxBack = input.maxCatchUpMs ?? DEFAULT_OUTCOME_TTL_MS;
  const gap = { from: Math.max(input.through, now - maxBack), to: now };
  const catchUp = lastTicks(trigger, gap.from, gap.to, catchUpCount(input.catchUp));
  return { future, catchUp, gap, through };
}
