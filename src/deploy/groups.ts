/**
 * Consumer groups: which subscriptions run together in one Deployment. Each group becomes a
 * Deployment (with `SBW_SUBSCRIPTIONS` set to its subscriptions), a PodDisruptionBudget and a KEDA
 * ScaledObject with one `azure-servicebus` trigger per subscription.
 *
 * The keys are typed by the topology: a subscription that does not exist does not compile, and a
 * unit test checks that every subscription the worker has a handler for (the built-in
 * `job-control/cancel` included) belongs to exactly one group. Subscriptions without a worker
 * handler (`job-events/status`, read by foreground services) belong to none.
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
  /**
   * Topics its handlers publish follow-up messages or job events to (Data Sender, docs/azure.md).
   * The topics of its plain subscriptions need Data Sender too (retry copies): see `senderTopics`.
   */
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
    name: "general",
    description: "light, unordered work: the order audit trail, outgoing e-mail and job cancellations",
    subscriptions: ["orders/audit", "notifications/email", "job-control/cancel"],
    publishesTo: [],
    replicas: { min: 1, max: 8 },
    resources: { cpuRequest: "100m", memoryRequest: "192Mi", memoryLimitMi: 384 },
  },
  {
    name: "reports-generate",
    description: "long CSV report jobs; scales to zero when there is nothing to build",
    subscriptions: ["reports/generate"],
    publishesTo: ["notifications", "job-events"],
    replicas: { min: 0, max: 4 },
    resources: { cpuRequest: "500m", memoryRequest: "512Mi", memoryLimitMi: 1024 },
  },
];

/** Splits `topic/subscription`. */
export function splitKey(key: SubscriptionKey): { readonly topic: TopicKey; readonly subscription: string } {
  const [topic, subscription] = key.split("/") as [TopicKey, string];
  return { topic, subscription };
}

/** Every topic a group's pods send to: follow-ups, job events, and retry copies on its own topics. */
export function senderTopics(group: ConsumerGroup, isSession: (key: SubscriptionKey) => boolean): TopicKey[] {
  const own = group.subscriptions.filter((k) => !isSession(k)).map((k) => splitKey(k).topic);
  return [...new Set([...group.publishesTo, ...own])];
}
