/**
 * Heartbeat-gated lock renewal, as a pure function (unit-tested as a table in
 * test/unit/jobs/renewalPolicy.test.ts).
 *
 * | handler                                  | decision                                        |
 * |------------------------------------------|-------------------------------------------------|
 * | never heartbeated, ran < maxLockRenewal   | renew (plain renewal, as before issue 4)        |
 * | never heartbeated, ran >= maxLockRenewal  | stop (the lock runs out; the broker redelivers) |
 * | heartbeated within stallTimeout           | renew, with no time limit: a long job is alive  |
 * | last heartbeat older than stallTimeout    | stall: stop renewing, abort as `Stalled`        |
 *
 * A handler that calls `ctx.heartbeat()` once has opted in: from then on silence means stalled.
 */
export type RenewalDecision =
  | { readonly kind: "renew" }
  | { readonly kind: "stop" }
  | { readonly kind: "stall"; readonly silentMs: number };

export interface RenewalInput {
  readonly now: number;
  /** When the handler started. */
  readonly startedAt: number;
  /** The last `ctx.heartbeat()`, or undefined when the handler never called it. */
  readonly lastHeartbeatAt: number | undefined;
  readonly stallTimeoutMs: number;
  readonly maxLockRenewalMs: number;
}

export function decideRenewal(input: RenewalInput): RenewalDecision {
  const { now, startedAt, lastHeartbeatAt, stallTimeoutMs, maxLockRenewalMs } = input;
  if (lastHeartbeatAt === undefined) {
    return now - startedAt < maxLockRenewalMs ? { kind: "renew" } : { kind: "stop" };
  }
  const silentMs = now - lastHeartbeatAt;
  return silentMs > stallTimeoutMs ? { kind: "stall", silentMs } : { kind: "renew" };
}

/** When the decision may next change to `stall` (undefined: it cannot, the handler never heartbeated). */
export function stallDeadline(
  input: Pick<RenewalInput, "lastHeartbeatAt" | "stallTimeoutMs">,
): number | undefined {
  return input.lastHeartbeatAt === undefined ? undefined : input.lastHeartbeatAt + input.stallTimeoutMs;
}
