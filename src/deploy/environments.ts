/**
 * Everything that differs between clusters, in one typed place. Edit the values here (not the
 * generated files under `k8s/`) and run `npx sbworker k8s render`.
 *
 * `base` holds neutral placeholders; each overlay patches them with its environment's values.
 */
import type { ContainerResources, ReplicaRange } from "./groups.js";

export interface Environment {
  /** Overlay folder name under `k8s/overlays/`. */
  readonly name: string;
  /** Kubernetes namespace the overlay deploys into. */
  readonly namespace: string;
  /** Service Bus namespace name (not the FQDN): `<name>.servicebus.windows.net`. */
  readonly serviceBusNamespace: string;
  /** Client id of the worker's user-assigned managed identity (ServiceAccount annotation). */
  readonly workloadClientId: string;
  /** Client id of the identity KEDA uses to read message counts (TriggerAuthentication). */
  readonly scalerClientId: string;
  /** Image repository and tag, set through kustomize `images:`. */
  readonly image: { readonly name: string; readonly tag: string };
  /** OTLP/HTTP endpoint of the OpenTelemetry collector. */
  readonly otlpEndpoint: string;
  readonly logLevel: "info" | "debug";
  /** Overrides every group's replica range (dev: exactly one pod). */
  readonly replicas?: ReplicaRange;
  /** Overrides every group's container resources (dev: smaller). */
  readonly resources?: ContainerResources;
  /** Extra egress on 443/5671/6380 to private endpoint subnets (Service Bus Premium, Redis behind a private link). */
  readonly privateEndpointCidrs: readonly string[];
  /**
   * The idempotency ledger shared by every pod (several replicas need Redis; the memory store
   * deduplicates within one process only). The URL, with its access key, comes from a Secret.
   */
  readonly ledger: { readonly secretName: string; readonly secretKey: string };
  /**
   * The reference e-mails' SMTP URL (`SBW_SMTP_URL`), from an optional Secret: without it the pods
   * write e-mails to the outbox folder under /tmp, which is only useful for a demo.
   */
  readonly smtp: { readonly secretName: string; readonly secretKey: string };
}

/** SMTP submission ports: implicit TLS (465) and STARTTLS (587). */
export const SMTP_PORTS = [465, 587] as const;

/** Azure Cache for Redis serves TLS on 6380 (`rediss://:<key>@<name>.redis.cache.windows.net:6380`). */
export const REDIS_TLS_PORT = 6380;

/** The cluster's monitoring stack, as the NetworkPolicy and the Prometheus objects refer to it. */
export const MONITORING = {
  /** Namespace of Prometheus and the OpenTelemetry collector (`kubernetes.io/metadata.name`). */
  namespace: "monitoring",
  /** Labels of the OpenTelemetry collector pods. */
  collectorPodLabels: { "app.kubernetes.io/name": "opentelemetry-collector" },
  /** OTLP ports: gRPC and HTTP. */
  collectorPorts: [4317, 4318],
  /** Labels the Prometheus operator selects PodMonitors and PrometheusRules by. */
  selectorLabels: { release: "kube-prometheus-stack" },
} as const;

/** The image name the base refers to; overlays map it to a registry and tag. */
export const IMAGE = "sbworker";

export const BASE: Environment = {
  name: "base",
  namespace: "sbworker",
  serviceBusNamespace: "example-sbworker",
  workloadClientId: "00000000-0000-0000-0000-000000000000",
  scalerClientId: "00000000-0000-0000-0000-000000000000",
  image: { name: IMAGE, tag: "latest" },
  otlpEndpoint: "http://opentelemetry-collector.monitoring.svc:4318",
  logLevel: "info",
  privateEndpointCidrs: [],
  ledger: { secretName: "sbworker-redis", secretKey: "url" },
  smtp: { secretName: "sbworker-smtp", secretKey: "url" },
};

export const ENVIRONMENTS: readonly Environment[] = [
  {
    ...BASE,
    name: "dev",
    namespace: "sbworker-dev",
    serviceBusNamespace: "contoso-sbworker-dev",
    workloadClientId: "11111111-1111-1111-1111-111111111111",
    scalerClientId: "22222222-2222-2222-2222-222222222222",
    image: { name: "contoso.azurecr.io/sbworker", tag: "dev" },
    logLevel: "debug",
    replicas: { min: 1, max: 1 },
    resources: { cpuRequest: "50m", memoryRequest: "128Mi", memoryLimitMi: 256 },
  },
  {
    ...BASE,
    name: "prod",
    namespace: "sbworker",
    serviceBusNamespace: "contoso-sbworker-prod",
    workloadClientId: "33333333-3333-3333-3333-333333333333",
    scalerClientId: "44444444-4444-4444-4444-444444444444",
    image: { name: "contoso.azurecr.io/sbworker", tag: "0.1.0" },
  },
];
