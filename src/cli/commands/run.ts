/** `sbworker run`: the worker against the configured Service Bus (what the container runs). */
import { parseArgs } from "node:util";
import { createReferenceHandlers } from "../../handlers/index.js";
import { smtpTransport } from "../../handlers/notifications/smtp.js";
import { schedules } from "../../topics/schedules.js";
import type { WorkerConfig } from "../../worker/config.js";
import { CONFIG_KEYS, loadConfig } from "../../worker/config.js";
import { isConfigError } from "../../worker/errors.js";
import type { Logger } from "pino";
import { isTelemetryConfigError } from "../../telemetry/setup.js";
import {
  createWorkerTelemetry,
  startWorkerQueueMetrics,
  type WorkerTelemetry,
} from "../../telemetry/worker.js";
import { clientOptions, createServiceBusClient } from "../../worker/client.js";
import { createLogger } from "../../worker/logger.js";
import { releaseReporter, Resources } from "../../worker/resources.js";
import { startWorker } from "../../worker/worker.js";
import type { CliCommand, CliIo } from "../command.js";
import { UsageError } from "../command.js";

const HELP = `usage: sbworker run

Consumes the subscriptions selected by SBW_SUBSCRIPTIONS (default: every subscription with
handlers) from SERVICEBUS_CONNECTION_STRING, or SERVICEBUS_NAMESPACE with an Azure credential.
Drains on SIGTERM/SIGINT and exits 0; a second signal exits at once.

environment: ${CONFIG_KEYS.join(", ")}
`;

/** Loads the configuration; invalid settings become a usage error listing every problem. */
export function configFrom(io: CliIo): WorkerConfig {
  try {
    return loadConfig(io.env);
  } catch (error) {
    if (isConfigError(error)) {
      for (const issue of error.issues.slice(1)) io.stderr.write(`sbworker: ${issue}\n`);
      throw new UsageError(error.issues[0] ?? error.message);
    }
    throw error;
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Something that runs beside the worker in the same process (`npm start`'s example API). */
export type Sidecar = (logger: Logger) => Promise<{ close(): Promise<void> }>;

function telemetryFrom(io: CliIo): WorkerTelemetry {
  try {
    return createWorkerTelemetry(io.env);
  } catch (error) {
    if (isTelemetryConfigError(error)) {
      for (const issue of error.issues.slice(1)) io.stderr.write(`sbworker: ${issue}\n`);
      throw new UsageError(error.issues[0] ?? error.message);
    }
    throw error;
  }
}

/**
 * Runs the reference domain's worker until `io.signal` aborts, then drains. Resolves to 0.
 * Telemetry: spans per handler attempt (exported when src/main.ts started the SDK), `/metrics`
 * on the health server, and the queue-depth poller when `SBW_QUEUE_METRICS=true`.
 */
export async function runWorker(
  config: WorkerConfig,
  io: CliIo,
  sidecars: readonly Sidecar[] = [],
): Promise<number> {
  const logger = createLogger(config.logLevel, io.stdout);
  const telemetry = telemetryFrom(io);
  // Released after the worker: a draining handler may still be sending.
  const smtp = config.reference.smtpUrl ? smtpTransport(config.reference.smtpUrl) : undefined;
  const registry = createReferenceHandlers({
    cwd: io.cwd,
    ...(smtp ? { transport: smtp } : {}),
    ...(config.reference.outboxDir ? { outboxDir: config.reference.outboxDir } : {}),
    ...(config.reference.reportsDir ? { reportsDir: config.reference.reportsDir } : {}),
    ...(config.reference.reportChunkDelayMs !== undefined
      ? { reportChunkDelayMs: config.reference.reportChunkDelayMs }
      : {}),
  });
  let worker;
  try {
    worker = await startWorker({
      schedules,
      config,
      registry,
      logger,
      telemetry: {
        tracing: telemetry.tracing,
        ...(telemetry.metrics ? { metrics: telemetry.metrics } : {}),
      },
      signal: io.signal,
    });
  } catch (error) {
    smtp?.close();
    if (isConfigError(error)) {
      for (const issue of error.issues.slice(1)) io.stderr.write(`sbworker: ${issue}\n`);
      throw new UsageError(error.issues[0] ?? error.message);
    }
    throw error;
  }
  const running = new Resources(releaseReporter(logger));
  try {
    if (telemetry.settings.queueMetrics && telemetry.metrics && config.connection) {
      const client = running.add(
        "queue metrics client",
        await createServiceBusClient(config.connection, clientOptions(config)),
        (c) => c.close(),
        config.closeTimeoutMs,
      );
      const poller = await startWorkerQueueMetrics({
        telemetry,
        connection: config.connection,
        client,
        topology: registry.topology,
        subscriptions: worker.subscriptions,
        log: logger.child({ component: "queue-metrics" }),
      });
      if (poller) running.add("queue metrics", poller, (p) => p.close(), config.closeTimeoutMs);
    }
    for (const [i, start] of sidecars.entries())
      running.add(`sidecar ${i}`, await start(logger), (s) => s.close(), config.closeTimeoutMs);
    await aborted(io.signal);
    logger.info({ reason: String(io.signal.reason) }, "shutdown requested");
  } finally {
    // Sidecars (the API that publishes) stop first, then the worker drains.
    await running.close().catch(() => {
      /* each failure was logged by the Resources hook */
    });
    await worker.close();
    smtp?.close();
  }
  return 0;
}

export const runCommand: CliCommand = {
  name: "run",
  summary: "run the worker against the configured Service Bus (the container's entry)",
  async run(argv, io) {
    const { values } = parseArgs({ args: [...argv], options: { help: { type: "boolean", short: "h" } } });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const config = configFrom(io);
    if (!config.connection) {
      throw new UsageError(
        "set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE (or use npm start for the emulator)",
      );
    }
    return runWorker(config, io);
  },
};
