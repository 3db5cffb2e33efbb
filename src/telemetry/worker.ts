/**
 * The worker's telemetry from the environment: the tracing of each handler attempt, the metrics
 * registry behind `/metrics`, and the opt-in queue-depth poller.
 *
 * | variable                          | default | effect                                                 |
 * |-----------------------------------|---------|--------------------------------------------------------|
 * | `SBW_METRICS`                     | `true`  | `false`: no `/metrics`                                 |
 * | `SBW_PROCESS_METRICS`             | `true`  | Node process metrics as `sbworker_process_*`, `sbworker_nodejs_*` |
 * | `SBW_QUEUE_METRICS`               | `false` | poll queue depth (needs Manage; set it on ONE Deployment) |
 * | `SBW_QUEUE_METRICS_INTERVAL_MS`   | `30000` | poll interval                                          |
 * | `SBW_TRACE_PARENT_FROM_MESSAGE`   | `false` | parent worker spans to the publisher's (./setup.ts)    |
 * | `SBW_TRACE_SETTLEMENT`            | `event` | `span`: a child span per settlement (./tracing.ts)     |
 */
import { ServiceBusAdministrationClient, type ServiceBusClient } from "@azure/service-bus";
import type { Logger } from "pino";
import type { AnyTopicDefinition, TopologyShape } from "../topics/dsl.js";
import type { SubscriptionBinding, WorkerConfig } from "../worker/config.js";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.js";
import { adminQueueSource, startQueueMetrics, type QueueMetricsPoller } from "./queueMetrics.js";
import { TelemetryConfigError, telemetrySettings } from "./setup.js";
import { createWorkerTracing, type WorkerTracing } from "./tracing.js";

type Env = Readonly<Record<string, string | undefined>>;

export interface WorkerTelemetrySettings {
  readonly metrics: boolean;
  readonly processMetrics: boolean;
  readonly queueMetrics: boolean;
  readonly queueMetricsIntervalMs: number;
}

export function workerTelemetrySettings(env: Env): WorkerTelemetrySettings {
  const issues: string[] = [];
  const flag = (key: string, fallback: boolean): boolean => {
    const v = env[key]?.trim();
    if (v === undefined || v === "") return fallback;
    if (v === "true" || v === "false") return v === "true";
    issues.push(`${key}: expected true or false, got "${v}"`);
    return fallback;
  };
  const interval = env.SBW_QUEUE_METRICS_INTERVAL_MS?.trim();
  if (interval && !/^[1-9]\d*$/.test(interval))
    issues.push(
      `SBW_QUEUE_METRICS_INTERVAL_MS: expected a positive integer (milliseconds), got "${interval}"`,
    );
  const settings = {
    metrics: flag("SBW_METRICS", true),
    processMetrics: flag("SBW_PROCESS_METRICS", true),
    queueMetrics: flag("SBW_QUEUE_METRICS", false),
    queueMetricsIntervalMs: interval ? Number(interval) : 30_000,
  };
  if (issues.length > 0) throw new TelemetryConfigError(issues);
  return settings;
}

export interface WorkerTelemetry {
  readonly tracing: WorkerTracing;
  readonly metrics: WorkerMetrics | undefined;
  readonly settings: WorkerTelemetrySettings;
}

/** What `startWorker({ telemetry })` takes, from the environment. */
export function createWorkerTelemetry(env: Env): WorkerTelemetry {
  const tracing = telemetrySettings(env);
  const settings = workerTelemetrySettings(env);
  return {
    tracing: createWorkerTracing({
      parentFromMessage: tracing.parentFromMessage,
      settlement: tracing.settlement,
      dup: tracing.dup,
    }),
    metrics: settings.metrics ? createWorkerMetrics({ processMetrics: settings.processMetrics }) : undefined,
    settings,
  };
}

/** The plain-HTTP rewrite the embedded emulator's administration API needs (it answers on the AMQP port). */
function plainHttpForEmulator(admin: ServiceBusAdministrationClient): void {
  admin.pipeline.addPolicy(
    {
      name: "sbworkerEmulatorPlainHttp",
      sendRequest(request, next) {
        const url = new URL(request.url);
        url.protocol = "http:";
        request.url = url.toString();
        request.allowInsecureConnection = true;
        return next(request);
      },
    },
    { phase: "Sign", afterPolicies: [] },
  );
}

export async function createAdminClient(
  connection: NonNullable<WorkerConfig["connection"]>,
): Promise<ServiceBusAdministrationClient> {
  if (connection.kind === "connectionString") {
    const admin = new ServiceBusAdministrationClient(connection.connectionString);
    if (/UseDevelopmentEmulator\s*=\s*true/i.test(connection.connectionString)) plainHttpForEmulator(admin);
    return admin;
  }
  const identity = await import("@azure/identity");
  const credential =
    connection.credential === "managed-identity"
      ? new identity.ManagedIdentityCredential(connection.clientId ? { clientId: connection.clientId } : {})
      : new identity.DefaultAzureCredential(
          connection.clientId ? { managedIdentityClientId: connection.clientId } : {},
        );
  return new ServiceBusAdministrationClient(connection.namespace, credential);
}

/** Starts the queue-depth poller for the worker's subscriptions (when `SBW_QUEUE_METRICS=true`). */
export async function startWorkerQueueMetrics(options: {
  readonly telemetry: WorkerTelemetry;
  readonly connection: NonNullable<WorkerConfig["connection"]>;
  readonly client: ServiceBusClient;
  readonly topology: TopologyShape;
  readonly subscriptions: readonly SubscriptionBinding[];
  readonly log: Logger;
}): Promise<QueueMetricsPoller | undefined> {
  const { telemetry } = options;
  if (!telemetry.metrics || !telemetry.settings.queueMetrics) return undefined;
  const admin = await createAdminClient(options.connection);
  return startQueueMetrics({
    metrics: telemetry.metrics,
    source: adminQueueSource(admin, options.client),
    targets: options.subscriptions.map((b) => ({
      key: b.key,
      topic: (options.topology[b.topic] as AnyTopicDefinition).name,
      subscription: b.subscription,
      requiresSession: b.definition.requiresSession === true,
    })),
    intervalMs: telemetry.settings.queueMetricsIntervalMs,
    log: options.log,
  });
}
