/**
 * One of a session consumer's `maxConcurrentSessions` slots (./sessionConsumer.ts runs its loop):
 * what phase it is in since when, and when a slot counts as wedged for the liveness probe.
 */
import { isServiceBusError } from "@azure/service-bus";

export interface Slot {
  phase: "accepting" | "receiving" | "handling" | "backoff" | "stopped";
  since: number;
  failingSince: number | undefined;
  /** A message of the held session is being handled (or waits in backoff). */
  busy: boolean;
  /** The slot's loop; settles when it stops. */
  done?: Promise<void>;
}

export function newSlot(now = Date.now()): Slot {
  return { phase: "accepting", since: now, failingSince: undefined, busy: false };
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

export interface SlotLimits {
  readonly livenessTimeoutMs: number;
  /** How long one accept may long-poll. */
  readonly acceptTimeoutMs: number;
  /** How long a receive may wait on a held session (`sessionIdleTimeoutMs`). */
  readonly idleTimeoutMs: number;
}

/**
 * The first slot that has been failing, or stuck in one phase, for longer than that phase can
 * legitimately last plus the liveness timeout; undefined when every slot is making progress.
 * Handling and backoff have no bound here: a handler may run as long as it needs (a handler that
 * heartbeats is watched by the job's stall detection, ./jobs/job.ts).
 */
export function wedgedSlot(slots: readonly Slot[], limits: SlotLimits, now: number): Slot | undefined {
  const { livenessTimeoutMs, acceptTimeoutMs, idleTimeoutMs } = limits;
  return slots.find(
    (s) =>
      (s.failingSince !== undefined && now - s.failingSince > livenessTimeoutMs) ||
      (s.phase === "accepting" && now - s.since > acceptTimeoutMs + livenessTimeoutMs) ||
      (s.phase === "receiving" && now - s.since > idleTimeoutMs + livenessTimeoutMs),
  );
}
