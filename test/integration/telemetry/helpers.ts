/**
 * The telemetry suite's fixture: the reference topics under unique entity names, an emulator on
 * port 0, the worker with telemetry from an environment, the publisher and the example API.
 */
import type { Logger } from "pino";
import type { Emulator } from "../../../src/emulator/index.js";
import { startExampleApi, type ExampleApi } from "../../../src/examples/api/server.js";
import { defineHandlers, type HandlerMap } from "../../../src/handlers/registry.js";
import { createPublisher, type BatchPublisher } from "../../../src/publisher/index.js";
import { createWorkerTelemetry, type WorkerTelemetry } from "../../../src/telemetry/worker.js";
import { orders } from "../../../src/topics/orders.js";
import { reports } from "../../../src/topics/reports.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";
import {
  fastClientOptions,
  Recorder,
  startTestEmulator,
  testConfig,
  testLogger,
  uniqueName,
} from "../worker/helpers.js";

export function telemetryTopology() {
  return {
    orders: { ...orders, name: uniqueName("orders") },
    reports: { ...reports, name: uniqueName("reports") },
  } as const;
}
export type TelemetryTopology = ReturnType<typeof telemetryTopology>;

export interface Stack {
  readonly emulator: Emulator;
  readonly topology: TelemetryTopology;
  readonly worker: Worker;
  readonly telemetry: WorkerTelemetry;
  readonly recorder: Recorder;
  readonly publisher: BatchPublisher<TelemetryTopology>;
  readonly api: ExampleApi;
  readonly log: Logger;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startStack(
  handlers: HandlerMap<TelemetryTopology>,
  env: Record<string, string> = {},
  /** The worker's logger (default: silent, without the trace mixin). */
  log: Logger = testLogger(),
): Promise<Stack> {
  const topology = telemetryTopology();
  const emulator = await startTestEmulator(topology);
  const recorder = new Recorder();
  const telemetry = createWorkerTelemetry({ SBW_PROCESS_METRICS: "false", ...env });
  const worker = await startWorker({
    config: testConfig(emulator, { SBW_SESSION_IDLE_TIMEOUT_MS: "50", ...env }),
    registry: defineHandlers(topology, handlers),
    logger: log,
    observers: [recorder],
    clientOptions: fastClientOptions,
    telemetry: { tracing: telemetry.tracing, ...(telemetry.metrics ? { metrics: telemetry.metrics } : {}) },
  });
  const publisher = createPublisher({
    connection: emulator.connectionString,
    clientOptions: fastClientOptions,
    topology,
  });
  const api = await startExampleApi({ publisher, log });
  return {
    emulator,
    topology,
    worker,
    telemetry,
    recorder,
    publisher,
    api,
    log,
    async post(path, body, headers = {}) {
      const res = await fetch(`${api.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status !== 202) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async close() {
      await api.close();
      await publisher.close();
      await worker.close();
      await emulator.close();
    },
  };
}

/** Completes every subject on every subscription; `audit` fails a customer "retry"'s first attempt. */
export function handlers(seen: { attempts: number[] } = { attempts: [] }): HandlerMap<TelemetryTopology> {
  const ok = () => Promise.resolve();
  return {
    orders: {
      audit: {
        OrderPlaced: (payload, ctx) => {
          seen.attempts.push(ctx.attempt);
          ctx.log.info("auditing");
          if (payload.customerId === "retry" && ctx.attempt === 1) return Promise.reject(new Error("flaky"));
          return Promise.resolve();
        },
      },
      fulfillment: { OrderPlaced: ok },
    },
    reports: { generate: { ReportRequested: ok } },
  };
}

/** One sample of a metric from the /metrics text (undefined when absent; `sample` reads 0 then). */
export function sampleOrUndefined(
  text: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** One sample of a metric from the /metrics text (0 when absent). */
export function sample(text: string, name: string, labels: Record<string, string>): number {
  return sampleOrUndefined(text, name, labels) ?? 0;
}
