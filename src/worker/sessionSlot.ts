/**
 * One of a session consumer's `maxConcurrentSessions` slots (./sessionConsumer.ts runs its loop):
 * what phase it is in since when, and when a slot counts as wedged for the liveness probe.
 */
import { isServiceBusError } from "@azure/service-bus";
import { backoffCeiling } from "./backoff.js";
import { failureHealth } from "./receiveLoop.js";

export interface Slot {
  phase: "accepting" | "receiving" | "handling" | "backoff" | "stopped";
  since: number;
  failingSince: number | undefined;
  /** When the last accept failed (a slot still trying fails again within its retry delay). */
  lastFailureAt: number | undefined;
  /** Accept failures in a row (not "no session available"): the next retry waits longer. */
  acceptFailures: number;
  /** A message of the held session is being handled (or waits in backoff). */
  busy: boolean;
  /** The slot's loop; settles when it stops. */
  done?: Promise<void>;
}

export function newSlot(now = Date.now()): Slot {
  return {
    phase: "accepting",
    since: now,
    failingSince: undefined,
    lastFailureAt: undefined,
    acceptFailures: 0,
    busy: false,
  };
}

export function enterPhase(slot: Slot, phase: Slot["phase"], now = Date.now()): void {
  slot.phase = phase;
  slot.since = now;
}

/** An accept that found nothing: not an error, just try again. */
export function isNoSessionAvailable(error: unknown): boolean {
  return (
    isServiceBusError(error) && (error.code === "ServiceTimeout" || error.code === "SessionCannotBeLocked")
  );
}

/** Keeps an emulator or broker that answers "no session" instantly from turning accept into a spin. */
export const MIN_ACCEPT_INTERVAL_MS = 200;

/** The longest wait between accept attempts of a failing slot (unless the base delay is longer). */
export const ACCEPT_RETRY_MAX_MS = 30_000;

/**
 * The wait after a slot's `failures`-th failed accept in a row: doubling from `baseMs`
 * (`SBW_SERVICEBUS_RETRY_DELAY_MS`) up to {@link ACCEPT_RETRY_MAX_MS}, jittered over the upper half
 * so that the slots of a pod, and the pods, do not retry in step against a namespace that is
 * coming back, and never less than half the ceiling (no spin).
 */
export function acceptRetryDelay(
  failures: number,
  baseMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = backoffCeiling(failures, { baseMs, maxMs: Math.max(baseMs, ACCEPT_RETRY_MAX_MS) });
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export interface SlotLimits {
  readonly livenessTimeoutMs: number;
  /** How long one accept may long-poll. */
  readonly acceptTimeoutMs: number;
  /** How long a receive may wait on a held session (`sessionIdleTimeoutMs`). */
  readonly idleTimeoutMs: number;
  /** The longest a failing slot that still tries goes without failing again (./receiveLoop.ts). */
  readonly failureQuietMs: number;
}

/**
 * The first slot that stopped trying after failures, or is stuck in one phase for longer than that
 * phase can legitimately last plus the liveness timeout; undefined when every slot is making
 * progress. A slot that keeps failing and retrying is failing (not ready), not wedged.
 * Handling and backoff have no bound here: a handler may run as long as it needs (a handler that
 * heartbeats is watched by the job's stall detection, ./jobs/job.ts).
 */
export function wedgedSlot(slots: readonly Slot[], limits: SlotLimits, now: number): Slot | undefined {
  const { livenessTimeoutMs, acceptTimeoutMs, idleTimeoutMs, failureQuietMs } = limits;
  const quiet = { livenessTimeoutMs, quietMs: failureQuietMs };
  return slots.find(
    (s) =>
      failureHealth({ since: s.failingSince, lastAt: s.lastFailureAt }, quiet, now).wedged ||
      (s.phase === "accepting" && now - s.since > acceptTimeoutMs + livenessTimeoutMs) ||
      (s.phase === "receiving" && now - s.since > idleTimeoutMs + livenessTimeoutMs),
  );
}

/** A session consumer's health from its slots: failing while any slot's accepts fail. */
export function slotsHealth(
  slots: readonly Slot[],
  limits: SlotLimits,
  now: number,
): { readonly failing: boolean; readonly wedged: boolean; readonly detail?: string } {
  const stuck = wedgedSlot(slots, limits, now);
  const since = Math.min(...slots.map((s) => s.failingSince ?? Number.POSITIVE_INFINITY));
  const failing = since !== Number.POSITIVE_INFINITY;
  const detail = stuck
    ? `a session slot has been ${stuck.phase} since ${new Date(stuck.since).toISOString()}`
    : failing
      ? `accepting sessions failing since ${new Date(since).toISOString()}`
      : undefined;
  return { failing, wedged: stuck !== undefined, ...(detail ? { detail } : {}) };
}
