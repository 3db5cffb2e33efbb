/**
 * Prometheus operator objects: a PodMonitor scraping every worker pod's `/metrics`, and a
 * PrometheusRule with the alerts an operator acts on. The operator's CRDs have no typings
 * installed here, so the fields used are typed below (a misspelt field still fails to compile).
 * Metric names come from ./metric-names.ts, shared with the telemetry code.
 */
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { MONITORING } from "./environments.js";
import { FAILURE_OUTCOMES, LABEL, METRIC } from "./metric-names.js";
import { APP, appLabels, HTTP_PORT_NAME, PATHS } from "./names.js";
import type { Rendered } from "./workload.js";

export interface PodMonitor {
  readonly apiVersion: "monitoring.coreos.com/v1";
  readonly kind: "PodMonitor";
  readonly spec: {
    readonly selector: LabelSelector;
    readonly podMetricsEndpoints: readonly {
      readonly port: string;
      readonly path: string;
      readonly interval: string;
      readonly scrapeTimeout: string;
    }[];
  };
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "warning" | "critical" };
  readonly annotations: { readonly summary: string; readonly description: string };
}

export interface PrometheusRule {
  readonly apiVersion: "monitoring.coreos.com/v1";
  readonly kind: "PrometheusRule";
  readonly spec: {
    readonly groups: readonly { readonly name: string; readonly rules: readonly AlertRule[] }[];
  };
}

/** Alert names: one per condition issue 8 asks for, and a subscription that cannot be read. */
export const ALERTS = {
  deadLetterGrowth: "SbworkerDeadLetterGrowth",
  oldestMessageAge: "SbworkerOldestMessageTooOld",
  failureRatio: "SbworkerHighFailureRatio",
  lockLoss: "SbworkerLockLoss",
  receiveFailing: "SbworkerReceiveFailing",
  ledgerUnavailable: "SbworkerLedgerUnavailable",
  stalledJobs: "SbworkerStalledJobs",
  podsNotReady: "SbworkerPodsNotReady",
} as const;

export const THRESHOLDS = {
  /** Oldest active message older than this: consumers are not keeping up (or are down). */
  oldestMessageAgeSeconds: 600,
  /** Share of deliveries that did not complete, over 10 minutes. */
  failureRatio: 0.1,
} as const;

export function podMonitor(): Rendered<PodMonitor> {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: APP, labels: { ...appLabels(), ...MONITORING.selectorLabels } },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": APP } },
      podMetricsEndpoints: [
        { port: HTTP_PORT_NAME, path: PATHS.metrics, interval: "30s", scrapeTimeout: "10s" },
      ],
    },
  };
}

const by = `by (${LABEL.subscription})`;

function rules(): AlertRule[] {
  const failures = FAILURE_OUTCOMES.join("|");
  return [
    {
      alert: ALERTS.deadLetterGrowth,
      expr: [
        `sum ${by} (increase(${METRIC.deadLetters}[15m])) > 0`,
        `or max ${by} (delta(${METRIC.queueDeadLetter}[15m])) > 0`,
      ].join("\n"),
      for: "0m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Messages are being dead-lettered on {{ $labels.subscription }}",
        description:
          "The dead-letter queue of {{ $labels.subscription }} grew in the last 15 minutes. Read the reasons with `npx sbworker dlq` and replay what can succeed.",
      },
    },
    {
      alert: ALERTS.oldestMessageAge,
      expr: `max ${by} (${METRIC.oldestActiveMessageAge}) > ${THRESHOLDS.oldestMessageAgeSeconds}`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Backlog on {{ $labels.subscription }} is not being worked off",
        description:
          "The oldest active message on {{ $labels.subscription }} is {{ $value | humanizeDuration }} old. Check that the pods are ready, that KEDA can read the counts, and maxReplicaCount.",
      },
    },
    {
      alert: ALERTS.failureRatio,
      expr: [
        `sum ${by} (rate(${METRIC.messagesProcessed}{${LABEL.outcome}=~"${failures}"}[10m]))`,
        `/ sum ${by} (rate(${METRIC.messagesProcessed}[10m]))`,
        `> ${THRESHOLDS.failureRatio}`,
      ].join("\n"),
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Many deliveries on {{ $labels.subscription }} fail",
        description:
          "{{ $value | humanizePercentage }} of the deliveries on {{ $labels.subscription }} were retried, abandoned or dead-lettered over 10 minutes.",
      },
    },
    {
      alert: ALERTS.lockLoss,
      expr: `sum ${by} (increase(${METRIC.lockLost}[15m])) > 0`,
      for: "0m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Message or session locks lost on {{ $labels.subscription }}",
        description:
          "Locks were lost while handlers ran; those messages are delivered again. Look for CPU starvation, event-loop stalls or a lock duration shorter than the handlers need.",
      },
    },
    {
      alert: ALERTS.receiveFailing,
      expr: `sum ${by} (rate(${METRIC.receiveErrors}[5m])) > 0`,
      for: "10m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The workers cannot read {{ $labels.subscription }}",
        description:
          "Receiving from {{ $labels.subscription }} has kept failing for 10 minutes: the namespace is unreachable, the subscription is missing, or the workload identity lost its Listen right. The pods log one `receive error` (or `accepting a session failed`) line per outage with the reason.",
      },
    },
    {
      alert: ALERTS.ledgerUnavailable,
      expr: `sum ${by} (increase(${METRIC.ledgerUnavailable}[5m])) > 0`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The job ledger (Redis) is unreachable for {{ $labels.subscription }}",
        description:
          "Deliveries on {{ $labels.subscription }} are being deferred, not run, because the ledger store cannot be reached. Nothing is lost (each comes back as a wait copy every few seconds), but nothing is processed until Redis answers again.",
      },
    },
    {
      alert: ALERTS.stalledJobs,
      expr: `sum ${by} (increase(${METRIC.stalled}[15m])) > 0`,
      for: "0m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Jobs stalled on {{ $labels.subscription }}",
        description: "Handlers on {{ $labels.subscription }} stopped heartbeating in the last 15 minutes.",
      },
    },
    {
      alert: ALERTS.podsNotReady,
      expr: `sum by (namespace, deployment) (kube_deployment_status_replicas_unavailable{deployment=~"${APP}-.*"}) > 0`,
      for: "10m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Worker pods of {{ $labels.deployment }} are not ready",
        description:
          "{{ $value }} pods of {{ $labels.namespace }}/{{ $labels.deployment }} have not been ready for 10 minutes (kube-state-metrics). Check /readyz and the pod logs.",
      },
    },
  ];
}

export function prometheusRule(): Rendered<PrometheusRule> {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: APP, labels: { ...appLabels(), ...MONITORING.selectorLabels } },
    spec: { groups: [{ name: APP, rules: rules() }] },
  };
}
