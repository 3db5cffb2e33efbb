/**
 * Shared pieces of the worker integration suite: an emulator on port 0 per test, unique entity
 * names, a worker configuration with fast settings, and an observer to await events (no sleeps).
 */
import { randomUUID } from "node:crypto";
import { ServiceBusClient, type ServiceBusClientOptions } from "@azure/service-bus";
import { pino, type Logger } from "pino";
import { startTcpProxy } from "../../helpers/tcpProxy.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../../src/emulator/index.js";
import { defineHandlers, type HandlerMap } from "../../../src/handlers/registry.js";
import { z } from "zod";
import { defineTopic, type TopologyShape } from "../../../src/topics/dsl.js";
import { toEmulatorConfig } from "../../../src/topics/emulatorConfig.js";
import { loadConfig, type WorkerConfig } from "../../../src/worker/config.js";
import type { DeliveryEvent, WorkerObserver } from "../../../src/worker/observer.js";
import type { Settlement } from "../../../src/worker/policy.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** SDK retry options small enough that a retryable error costs milliseconds, not 30 s. */
export const fastClientOptions: ServiceBusClientOptions = {
  retryOptions: { maxRetries: 2, retryDelayInMs: 50, maxRetryDelayInMs: 200, timeoutInMs: 5_000 },
};

export async function startTestEmulator(
  topology: TopologyShape,
  options: Partial<EmulatorOptions> = {},
): Promise<Emulator> {
  return startEmulator({ port: 0, config: toEmulatorConfig(topology), ...options });
}

export function testClient(emulator: Emulator): ServiceBusClient {
  return new ServiceBusClient(emulator.connectionString, fastClientOptions);
}

export function testConfig(emulator: Emulator, env: Record<string, string> = {}): WorkerConfig {
  return loadConfig({
    SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
    SBW_HTTP_PORT: "off",
    SBW_LOG_LEVEL: process.env.SBW_TEST_LOG_LEVEL ?? "silent",
    SBW_SERVICEBUS_TIMEOUT_MS: "5000",
    SBW_SESSION_ACCEPT_TIMEOUT_MS: "3000",
    SBW_SERVICEBUS_MAX_RETRIES: "2",
    SBW_SERVICEBUS_RETRY_DELAY_MS: "50",
    SBW_RETRY_BASE_DELAY_MS: "10",
    SBW_RETRY_MAX_DELAY_MS: "40",
    ...env,
  });
}

export function testLogger(): Logger {
  const level = process.env.SBW_TEST_LOG_LEVEL ?? "silent";
  return pino({ level }, process.stderr);
}

export type Settled = DeliveryEvent & { readonly settlement: Settlement };

/** Records worker events; `until()` resolves when a predicate over the record holds. */
export class Recorder implements WorkerObserver {
  readonly started: DeliveryEvent[] = [];
  readonly settledEvents: Settled[] = [];
  readonly sessionsAccepted: string[] = [];
  /** Receive (and accept) failures per subscription key, as the metric counts them. */
  readonly receiveErrors = new Map<string, number>();
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  private readonly counts = new Map<Settlement["kind"], number>();

  handlerStarted(e: DeliveryEvent): void {
    this.started.push(e);
    this.poke();
  }
  settled(e: Settled): void {
    this.settledEvents.push(e);
    this.counts.set(e.settlement.kind, this.count(e.settlement.kind) + 1);
    this.poke();
  }
  sessionAccepted(e: { sessionId: string }): void {
    this.sessionsAccepted.push(e.sessionId);
    this.poke();
  }
  /** Deliveries deferred because the ledger store was unreachable (the metric's source). */
  ledgerDeferrals = 0;
  ledgerUnavailable(): void {
    this.ledgerDeferrals += 1;
    this.poke();
  }
  receiveError(e: { subscription: string }): void {
    this.receiveErrors.set(e.subscription, (this.receiveErrors.get(e.subscription) ?? 0) + 1);
    this.poke();
  }

  count(kind: Settlement["kind"]): number {
    return this.counts.get(kind) ?? 0;
  }

  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  private poke(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }
}

/** Polls `check` until it holds (for state outside the worker, e.g. emulator snapshots). */
export async function eventually(check: () => boolean | Promise<boolean>, everyMs = 20): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, everyMs));
}

export function entity(emulator: Emulator, topic: string, subscription: string) {
  const name = `${topic}/Subscriptions/${subscription}`.toLowerCase();
  const found = emulator.snapshot().entities.find((e) => e.name.toLowerCase() === name);
  if (!found) throw new Error(`no entity ${name} in the emulator`);
  return found;
}

/** The worker in this process on `emulator`, with the test configuration plus `env`. */
export function startTestWorker<T extends TopologyShape>(
  emulator: Emulator,
  topology: T,
  handlers: HandlerMap<T>,
  options: {
    readonly recorder?: WorkerObserver;
    readonly env?: Record<string, string>;
    readonly logger?: Logger;
    readonly random?: () => number;
    /** Default: {@link fastClientOptions}. */
    readonly clientOptions?: ServiceBusClientOptions;
  } = {},
): Promise<Worker> {
  return startWorker({
    config: testConfig(emulator, options.env),
    registry: defineHandlers(topology, handlers),
    logger: options.logger ?? testLogger(),
    observers: options.recorder ? [options.recorder] : [],
    clientOptions: options.clientOptions ?? fastClientOptions,
    ...(options.random ? { random: options.random } : {}),
  });
}

/**
 * The outage tests' topic: `Job { id }` messages, a plain subscription `work` and a session one
 * `ordered` (the session id is the job id).
 */
export function workAndOrderedTopology(name: string, maxConcurrentSessions: number) {
  return {
    jobs: defineTopic({
      name,
      messages: { Job: z.object({ id: z.string() }) },
      sessionId: (m) => m.payload.id,
      subscriptions: {
        work: { policy: { concurrency: 2 } },
        ordered: { requiresSession: true, policy: { maxConcurrentSessions } },
      },
    }),
  } as const;
}

/**
 * The outage tests' rig: an emulator with {@link workAndOrderedTopology}, a client of it, a proxy in
 * front of it for the worker (the test takes it down or stalls it), and a logger that keeps its
 * lines, parsed.
 */
export async function startOutageRig<L>(prefix: string, maxConcurrentSessions: number) {
  const topic = uniqueName(prefix);
  const topology = workAndOrderedTopology(topic, maxConcurrentSessions);
  const emulator = await startTestEmulator(topology);
  const client = testClient(emulator);
  const proxy = await startTcpProxy(emulator.port);
  const lines: L[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l) as L) });
  return {
    topic,
    topology,
    emulator,
    client,
    proxy,
    lines,
    logger,
    recorder: new Recorder(),
    /** Heals the proxy, closes `worker` (if still open), then the proxy, the client and the emulator. */
    async close(worker?: Worker): Promise<void> {
      proxy.resume();
      await worker?.close();
      await proxy.close();
      await client.close();
      await emulator.close();
    },
  };
}
