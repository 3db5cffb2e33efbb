/**
 * How long Kubernetes must wait for a pod to stop, derived from the topology.
 *
 * On SIGTERM the worker stops intake, gives in-flight handlers up to `drainTimeoutMs`, aborts
 * them, abandons what is unsettled (a settlement call can take up to a lock duration when the
 * broker is slow; a lock that lapses instead returns the message only after the lock duration),
 * closes receivers and flushes telemetry. `terminationGracePeriodSeconds` must exceed the sum,
 * or the kubelet's SIGKILL cuts the drain short. In a network partition the settlement is bounded
 * by the close timeout instead, and the other steps run to their limits ({@link CLOSE_STEPS_MS}).
 */
import { resolvePolicy, type SubscriptionDefinition } from "../topics/dsl.js";
import { topology } from "../topics/index.js";
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_SESSION_ACCEPT_TIMEOUT_MS } from "../worker/config.js";
import { RELEASE_FLOOR_MS } from "../worker/resources.js";
import { splitKey, type ConsumerGroup, type SubscriptionKey } from "./groups.js";

/** Service Bus' default lock duration (PT1M), used when a subscription sets none. */
export const DEFAULT_LOCK_DURATION_MS = 60_000;
/** Time the telemetry exporters get to flush on shutdown (issue 5). */
export const TELEMETRY_FLUSH_MS = 10_000;
/** Slack for process start-up of the shutdown path, receiver close and the event loop. */
export const GRACE_MARGIN_MS = 5_000;
/**
 * The shutdown's bounded steps besides the drain when a partition makes each run to its limit
 * (docs/worker.md, "Shutdown"): stopping the scheduler, then the receivers, the abandons of a
 * drain that timed out, the closes' budget (close + accept timeout), and a floor for each of
 * about 8 releases after it.
 */
export const CLOSE_STEPS_MS =
  4 * DEFAULT_CLOSE_TIMEOUT_MS + DEFAULT_SESSION_ACCEPT_TIMEOUT_MS + 8 * RELEASE_FLOOR_MS;

export function subscriptionDefinition(key: SubscriptionKey): SubscriptionDefinition {
  const { topic, subscription } = splitKey(key);
  const definition = (topology[topic].subscriptions as Readonly<Record<string, SubscriptionDefinition>>)[
    subscription
  ];
  if (!definition) throw new TypeError(`unknown subscription ${key}`);
  return definition;
}

export interface GroupTiming {
  /** Longest drain timeout among the group's subscriptions. */
  readonly drainTimeoutMs: number;
  /** Longest lock duration among the group's subscriptions. */
  readonly lockDurationMs: number;
  readonly telemetryFlushMs: number;
  readonly terminationGracePeriodSeconds: number;
}

export function groupTiming(group: ConsumerGroup): GroupTiming {
  const definitions = group.subscriptions.map(subscriptionDefinition);
  const drainTimeoutMs = Math.max(...definitions.map((d) => resolvePolicy(d).drainTimeoutMs));
  const lockDurationMs = Math.max(...definitions.map((d) => d.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS));
  // The abandons take up to a lock duration on a slow broker, the closes their limits in a partition.
  const totalMs =
    drainTimeoutMs + Math.max(lockDurationMs, CLOSE_STEPS_MS) + TELEMETRY_FLUSH_MS + GRACE_MARGIN_MS;
  return {
    drainTimeoutMs,
    lockDurationMs,
    telemetryFlushMs: TELEMETRY_FLUSH_MS,
    terminationGracePeriodSeconds: Math.ceil(totalMs / 1000),
  };
}
