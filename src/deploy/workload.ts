/**
 * The worker's Kubernetes workload: its ServiceAccount (Azure workload identity), one Deployment
 * and one PodDisruptionBudget per consumer group. Typed with `kubernetes-types`, so a misspelt
 * field does not compile.
 */
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { Container, EnvVar, PodSpec, Probe, ServiceAccount } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import type { Environment } from "./environments.js";
import { IMAGE } from "./environments.js";
import type { ConsumerGroup } from "./groups.js";
import {
  appLabels,
  groupLabels,
  groupSelector,
  HTTP_PORT,
  HTTP_PORT_NAME,
  PATHS,
  RUN_AS_ID,
  SERVICE_ACCOUNT,
  TMP_DIR,
  WORKLOAD_IDENTITY,
  workloadName,
} from "./names.js";
import { groupTiming } from "./timing.js";

/** A manifest with the fields every rendered object sets. */
export type Rendered<T> = T & {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels: Record<string, string> };
};

export function serviceAccount(env: Environment): Rendered<ServiceAccount> {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: {
      name: SERVICE_ACCOUNT,
      labels: { ...appLabels(), [WORKLOAD_IDENTITY.useLabel]: "true" },
      annotations: { [WORKLOAD_IDENTITY.clientIdAnnotation]: env.workloadClientId },
    },
    // Only the projected Azure token is needed; the worker never calls the Kubernetes API.
    automountServiceAccountToken: false,
  };
}

function environment(group: ConsumerGroup, env: Environment): EnvVar[] {
  const resources = env.resources ?? group.resources;
  return [
    { name: "SERVICEBUS_NAMESPACE", value: `${env.serviceBusNamespace}.servicebus.windows.net` },
    { name: "SBW_SUBSCRIPTIONS", value: group.subscriptions.join(",") },
    { name: "SBW_HTTP_PORT", value: String(HTTP_PORT) },
    { name: "SBW_LOG_LEVEL", value: env.logLevel },
    { name: "SBW_LEDGER", value: "redis" },
    {
      name: "REDIS_URL",
      valueFrom: { secretKeyRef: { name: env.ledger.secretName, key: env.ledger.secretKey } },
    },
    {
      name: "SBW_SMTP_URL",
      valueFrom: { secretKeyRef: { name: env.smtp.secretName, key: env.smtp.secretKey, optional: true } },
    },
    { name: "SBW_OUTBOX_DIR", value: `${TMP_DIR}/outbox` },
    { name: "SBW_REPORTS_DIR", value: `${TMP_DIR}/reports` },
    { name: "OTEL_SERVICE_NAME", value: workloadName(group) },
    { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: env.otlpEndpoint },
    { name: "OTEL_RESOURCE_ATTRIBUTES", value: `deployment.environment.name=${env.name}` },
    // Leave a quarter of the container's memory to buffers, sockets and native code.
    { name: "NODE_OPTIONS", value: `--max-old-space-size=${Math.floor(resources.memoryLimitMi * 0.75)}` },
  ];
}

function probe(path: string, periodSeconds: number, failureThreshold: number): Probe {
  return {
    httpGet: { path, port: HTTP_PORT_NAME },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  };
}

function container(group: ConsumerGroup, env: Environment): Container {
  const resources = env.resources ?? group.resources;
  return {
    name: "worker",
    image: IMAGE,
    imagePullPolicy: "IfNotPresent",
    // The image's CMD (`node bin/sbworker.js start`) runs the worker; no args override it.
    env: environment(group, env),
    ports: [{ name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: "TCP" }],
    startupProbe: probe(PATHS.livez, 2, 30),
    livenessProbe: probe(PATHS.livez, 10, 3),
    readinessProbe: probe(PATHS.readyz, 5, 2),
    resources: {
      requests: { cpu: resources.cpuRequest, memory: resources.memoryRequest },
      limits: { memory: `${resources.memoryLimitMi}Mi` },
    },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_ID,
      runAsGroup: RUN_AS_ID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [{ name: "tmp", mountPath: TMP_DIR }],
  };
}

function podSpec(group: ConsumerGroup, env: Environment): PodSpec {
  const selector = { matchLabels: groupSelector(group) };
  return {
    serviceAccountName: SERVICE_ACCOUNT,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: groupTiming(group).terminationGracePeriodSeconds,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_ID,
      runAsGroup: RUN_AS_ID,
      fsGroup: RUN_AS_ID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    containers: [container(group, env)],
    volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: selector,
        matchLabelKeys: ["pod-template-hash"],
      },
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: selector,
        matchLabelKeys: ["pod-template-hash"],
      },
    ],
  };
}

export function deployment(group: ConsumerGroup, env: Environment): Rendered<Deployment> {
  const timing = groupTiming(group);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: workloadName(group),
      labels: groupLabels(group),
      annotations: {
        "sbworker.dev/description": group.description,
        "sbworker.dev/subscriptions": group.subscriptions.join(","),
        "sbworker.dev/grace-period": `drain ${timing.drainTimeoutMs}ms + lock ${timing.lockDurationMs}ms + telemetry flush ${timing.telemetryFlushMs}ms`,
      },
    },
    // No `replicas`: the KEDA ScaledObject owns the replica count.
    spec: {
      selector: { matchLabels: groupSelector(group) },
      revisionHistoryLimit: 5,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...groupLabels(group), [WORKLOAD_IDENTITY.useLabel]: "true" } },
        spec: podSpec(group, env),
      },
    },
  };
}

export function podDisruptionBudget(group: ConsumerGroup): Rendered<PodDisruptionBudget> {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: workloadName(group), labels: groupLabels(group) },
    // maxUnavailable (not minAvailable) so a single-replica group never blocks a node drain; each
    // evicted pod drains within its grace period and its messages return to the subscription.
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: groupSelector(group) },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    },
  };
}
