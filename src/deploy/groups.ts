/**
 * Consumer groups: which subscriptions run together in one Deployment. Each group becomes a
 * Deployment (with `SBW_SUBSCRIPTIONS` set to its subscriptions), a PodDisruptionBudget and a KEDA
 * ScaledObject with one `azure-servicebus` trigger per subscription.
 *
 * The keys are typed by the topology: a subscription that does not exist does not compile, and a
 * unit test checks that every subscription of the topology belongs to exactly one group.
 */
import type { Topology } from "../topics/index.js";

/** `topic/subscription` for every subscription of the topology. */
export type SubscriptionKey = {
  [K in keyof Topology]: `${K}/${Extract<keyof Topology[K]["subscriptions"], string>}`;
}[keyof Topology];

export type TopicKey = keyof Topology;

/** Kubernetes resource quantities of the worker container. No CPU limit: throttling stalls lock renewal. */
export interface ContainerResources {
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  /** In mebibytes, so the V8 heap can be sized from it. */
  readonly memoryLimitMi: number;
}

export interface ReplicaRange {
  readonly min: number;
  readonly max: number;
}

export interface ConsumerGroup {
  /** Names the Deployment `sbworker-<name>`; lower-case DNS label. */
  readonly name: string;
  readonly description: string;
  readonly subscriptions: readonly SubscriptionKey[];
  /** Topics its handlers publish follow-up messages to (Data Sender role, see docs/azure.md). */
  readonly publishesTo: readonly TopicKey[];
  readonly replicas: ReplicaRange;
  readonly resources: ContainerResources;
}

export const CONSUMER_GROUPS: readonly ConsumerGroup[] = [
  {
    name: "orders-fulfillment",
    description: "ordered order life cycle (session subscription, one order per session)",
    subscriptions: ["orders/fulfillment"],
    publishesTo: ["notifications"],
    replicas: { min: 2, max: 10 },
    resources: { cpuRequest: "250m", memoryRequest: "256Mi", memoryLimitMi: 512 },
  },
  {
    name: "audit-email",
    description: "light, unordered work: the order audit trail and outgoing e-mail",
    subscriptions: ["orders/audit", "notifications/email"],
    publishesTo: [],
    replicas: { min: 1, max: 8 },
    resources: { cpuRequest: "100m", memoryRequest: "192Mi", memoryLimitMi: 384 },
  },
  {
    name: "reports-generate",
    description: "long CSV report jobs; scales to zero when there is nothing to build",
    subscriptions: ["reports/generate"],
    publishesTo: ["notifications"],
    replicas: { min: 0, max: 4 },
    resources: { cpuRequest: "500m", memoryRequest: "512Mi", memoryLimitMi: 1024 },
  },
];

/** Splits `topic/subscription`. */
export function splitKey(key: SubscriptionKey): { readonly topic: TopicKey; readonly subscription: string } {
  const [topic, subscription] = key.split("/") as [TopicKey, string];
  return { topic, subscription };
}
