/**
 * KEDA autoscaling: one ScaledObject per consumer group with an `azure-servicebus` trigger per
 * subscription, and the TriggerAuthentication through which KEDA reads message counts with Azure
 * workload identity.
 *
 * Target per replica (`messageCount`): KEDA adds the active messages of a group's subscriptions
 * and asks the HPA for `ceil(active / messageCount)` replicas per trigger (the largest wins).
 * - plain subscription: `concurrency`, the messages one pod handles at once;
 * - session subscription: `maxConcurrentSessions`. KEDA sees messages, not sessions: N active
 *   messages span at most N sessions, so at most ceil(N / maxConcurrentSessions) pods can have
 *   work. When sessions hold several messages each, fewer pods would do; KEDA cannot tell
 *   (see docs/deploy.md), so this is the upper bound, and `maxReplicaCount` caps it.
 */
import type { IScaledObject, ITriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { resolvePolicy } from "../topics/dsl.js";
import type { Environment } from "./environments.js";
import { splitKey, type ConsumerGroup, type ReplicaRange, type SubscriptionKey } from "./groups.js";
import { appLabels, groupLabels, TRIGGER_AUTHENTICATION, workloadName } from "./names.js";
import { subscriptionDefinition } from "./timing.js";
import type { Rendered } from "./workload.js";

/** Seconds between KEDA's polls of the message counts. */
export const POLLING_INTERVAL_SECONDS = 15;
/** Seconds without messages before a group with `min: 0` scales to zero. */
export const COOLDOWN_SECONDS = 300;

export const SCALE_UP = { stabilizationWindowSeconds: 0, percent: 100, pods: 4, periodSeconds: 15 } as const;
export const SCALE_DOWN = { stabilizationWindowSeconds: 300, pods: 1, periodSeconds: 120 } as const;

/** The backlog one replica is expected to absorb, from the subscription's policy. */
export function targetMessageCount(key: SubscriptionKey): number {
  const definition = subscriptionDefinition(key);
  const policy = resolvePolicy(definition);
  return definition.requiresSession ? policy.maxConcurrentSessions : policy.concurrency;
}

export function triggerAuthentication(env: Environment): Rendered<ITriggerAuthentication> {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "TriggerAuthentication",
    metadata: { name: TRIGGER_AUTHENTICATION, labels: appLabels() },
    spec: {
      // KEDA's operator exchanges its own token for this identity (federated with keda-operator);
      // the worker's identity never gets the Manage rights the scaler needs.
      podIdentity: { provider: "azure-workload", identityId: env.scalerClientId },
    },
  };
}

export function scaledObject(group: ConsumerGroup, env: Environment): Rendered<IScaledObject> {
  const replicas: ReplicaRange = env.replicas ?? group.replicas;
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: workloadName(group), labels: groupLabels(group) },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: workloadName(group) },
      minReplicaCount: replicas.min,
      maxReplicaCount: replicas.max,
      pollingInterval: POLLING_INTERVAL_SECONDS,
      cooldownPeriod: COOLDOWN_SECONDS,
      // If KEDA cannot read the counts (identity or network trouble), keep some workers running.
      fallback: { failureThreshold: 3, replicas: Math.max(1, replicas.min) },
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: {
              stabilizationWindowSeconds: SCALE_UP.stabilizationWindowSeconds,
              selectPolicy: "Max",
              policies: [
                { type: "Percent", value: SCALE_UP.percent, periodSeconds: SCALE_UP.periodSeconds },
                { type: "Pods", value: SCALE_UP.pods, periodSeconds: SCALE_UP.periodSeconds },
              ],
            },
            // One pod at a time: each scale-in drains in-flight work and hands sessions over.
            scaleDown: {
              stabilizationWindowSeconds: SCALE_DOWN.stabilizationWindowSeconds,
              selectPolicy: "Min",
              policies: [{ type: "Pods", value: SCALE_DOWN.pods, periodSeconds: SCALE_DOWN.periodSeconds }],
            },
          },
        },
      },
      triggers: group.subscriptions.map((key) => {
        const { topic, subscription } = splitKey(key);
        return {
          type: "azure-servicebus",
          name: `${topic}-${subscription}`,
          metadata: {
            namespace: env.serviceBusNamespace,
            topicName: topic,
            subscriptionName: subscription,
            messageCount: String(targetMessageCount(key)),
            activationMessageCount: "0",
          },
          authenticationRef: { name: TRIGGER_AUTHENTICATION },
        };
      }),
    },
  };
}
