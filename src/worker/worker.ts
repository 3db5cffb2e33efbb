/**
 * The worker: one consumer per selected subscription, a publisher for follow-ups, the health
 * server, and the two-stage shutdown.
 *
 * Start-up acquires, in order: Service Bus client → publisher → health server → consumers; every
 * acquisition registers its release, so a failure halfway releases what was acquired, in reverse.
 *
 * Drain (`drain()`, what SIGTERM triggers through the CLI):
 *   1. readiness turns false and every consumer stops intake (no new messages or sessions);
 *   2. in-flight handlers get the subscription's `drainTimeoutMs`; then their `ctx.signal` aborts and
 *      what is still unsettled is abandoned, so another worker gets it at once;
 *   3. session receivers close (the sessions are free for another pod), then everything else
 *      closes in reverse order of acquisition. A second signal exits at once (src/main.ts).
 */
import type { ServiceBusClient, ServiceBusClientOptions } from "@azure/service-bus";
import type { Logger } from "pino";
import type { HandlerRegistry } from "../handlers/registry.js";
import { createPublisher } from "../publisher/index.js";
import type { WorkerMetrics } from "../telemetry/metrics.js";
import type { WorkerTracing } from "../telemetry/tracing.js";
import type { TopologyShape } from "../topics/dsl.js";
import { clientOptions, createServiceBusClient, retryCycleMs } from "./client.js";
import { ACCEPT_RETRY_MAX_MS } from "./sessionSlot.js";
import type { SubscriptionBinding, WorkerConfig } from "./config.js";
import { selectSubscriptions } from "./config.js";
import { SubscriptionConsumer } from "./consumer.js";
import { finishedWithin } from "./deadline.js";
import { ConfigError } from "./errors.js";
import type { HealthServer, HealthSource } from "./health.js";
import { liveness, readiness, startHealthServer } from "./health.js";
import type { WorkerObserver } from "./observer.js";
import { combineObservers } from "./observer.js";
import type { LoopHealth, ReceiveLoop } from "./receiveLoop.js";
import { releaseReporter, Resources } from "./resources.js";
import { rheaSettlementBugPresent } from "./rheaCheck.js";
import { SessionConsumer } from "./sessionConsumer.js";
import type { ScheduleDefinition } from "../topics/scheduleDsl.js";
import type { Scheduler } from "./schedules/scheduler.js";
import { scheduleRuntime, startScheduler, tickRegistry, type SchedulingOptions } from "./schedules/index.js";
import { withJobControl } from "./jobs/cancel.js";
import { jobEventSender } from "./jobs/events.js";
import type { JobRuntime } from "./jobs/runtime.js";
import { openStore, startJobRuntime } from "./jobs/setup.js";

export interface WorkerOptions<T extends TopologyShape> {
  readonly config: WorkerConfig;
  readonly registry: HandlerRegistry<T>;
  readonly logger: Logger;
  readonly observers?: readonly WorkerObserver[];
  /** Seam: SDK client options (tests pass small retry options); default from `config.serviceBus`. */
  readonly clientOptions?: ServiceBusClientOptions;
  /** Seam for tests of the policy's jitter. */
  readonly random?: () => number;
  /** Schedules to keep scheduled and whose ticks to judge (docs/schedules.md); omitted: none. */
  readonly schedules?: readonly ScheduleDefinition[];
  /** Scheduler settings and seams; default from `config.schedules`. */
  readonly scheduling?: SchedulingOptions;
  /** Spans per handler attempt and the `/metrics` registry (src/telemetry); each optional. */
  readonly telemetry?: { readonly tracing?: WorkerTracing; readonly metrics?: WorkerMetrics };
  /**
   * Shutdown requested (`sbworker run` passes its signal): start stops waiting for the scheduler's
   * first cycle, its one step that waits on the broker (in a partition, for the SDK's timeouts and
   * retries: minutes), and returns; close the worker as usual. The consumers run by then.
   */
  readonly signal?: AbortSignal;
}

export interface Worker extends AsyncDisposable {
  readonly subscriptions: readonly SubscriptionBinding[];
  /** The health server's address, when it runs. */
  readonly http: { readonly host: string; readonly port: number } | undefined;
  readonly draining: boolean;
  /** The scheduler, when this worker runs schedules. */
  readonly scheduler: Scheduler | undefined;
  health(): { live: boolean; ready: boolean; loops: LoopHealth[] };
  /** Graceful shutdown (idempotent): stop intake, drain, close everything. */
  close(): Promise<void>;
}

/** Logs settlements: dead-letters as warnings, retries as info, the rest at debug level. */
function loggingObserver(log: Logger): WorkerObserver {
  return {
    settled: (e) => {
      const s = e.settlement;
      // Most settlements log at debug level: skip building the line when it would be dropped.
      if (!log.isLevelEnabled(s.kind === "deadLetter" ? "warn" : s.kind === "retry" ? "info" : "debug"))
        return;
      const fields = {
        subscription: `${e.topic}/${e.subscription}`,
        messageId: e.messageId,
        attempt: e.attempt,
      };
      if (s.kind === "deadLetter")
        log.warn({ ...fields, reason: s.reason, description: s.description }, "dead-lettered");
      else if (s.kind === "retry") log.info({ ...fields, delayMs: s.delayMs }, "retry scheduled");
      else log.debug({ ...fields, settlement: s.kind, durationMs: e.durationMs }, "settled");
    },
    sessionReleased: (e) => log.debug(e, "session released"),
  };
}

/** The client of session receivers: its operation timeout bounds each accept's long-poll. */
function createSessionClient(
  config: WorkerConfig,
  base: ServiceBusClientOptions | undefined,
): Promise<ServiceBusClient> {
  const options = base ?? clientOptions(config);
  return createServiceBusClient(config.connection!, {
    ...options,
    retryOptions: { ...options.retryOptions, timeoutInMs: config.sessionAcceptTimeoutMs },
  });
}

export async function startWorker<T extends TopologyShape>(options: WorkerOptions<T>): Promise<Worker> {
  const { config, logger } = options;
  if (!config.connection) {
    throw new ConfigError([
      "SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE: expected one of them, got neither",
    ]);
  }
  let jobs: JobRuntime | undefined;
  // The built-in `job-control/cancel` handler (CancelJob), when the topology has that topic.
  const registry = withJobControl(options.registry, () => jobs);
  const bindings = selectSubscriptions(registry.topology, registry.subscriptions(), config);
  const log = logger.child({ component: "worker" });
  if (rheaSettlementBugPresent() === true) {
    log.error(
      "rhea's disposition batching bug is not patched: a dead-letter or abandon sent in the same " +
        "tick as a complete can be applied as a complete; run `node scripts/patch-rhea.mjs` " +
        "(npm ci runs it; in a project that depends on sbworker, " +
        "`node node_modules/sbworker/scripts/patch-rhea.mjs --force`; see docs/reliability.md)",
    );
  }
  const metrics = options.telemetry?.metrics;
  const observers = [
    loggingObserver(log),
    ...(metrics ? [metrics.observer] : []),
    ...(options.observers ?? []),
  ];
  const observer = combineObservers(observers, (hook, error) =>
    log.error({ err: error, hook }, "observer hook threw"),
  );
  const resources = new Resources(releaseReporter(log));
  // Every release is bounded: a network partition would hold a Service Bus close for good.
  const closeMs = config.closeTimeoutMs;
  const loops: ReceiveLoop[] = [];
  let draining = false;
  const source: HealthSource = {
    get draining() {
      return draining;
    },
    loops: () => loops.map((l) => l.health(Date.now())),
  };

  let http: HealthServer | undefined;
  let scheduler: Scheduler | undefined;
  try {
    const client: ServiceBusClient = resources.add(
      "servicebus client",
      await createServiceBusClient(config.connection, options.clientOptions ?? clientOptions(config)),
      (c) => c.close(),
      closeMs,
    );
    const sessionClient = bindings.some((b) => b.definition.requiresSession)
      ? resources.add(
          "servicebus client (sessions)",
          await createSessionClient(config, options.clientOptions),
          (c) => c.close(),
          closeMs,
        )
      : client;
    const publisher = resources.add(
      "publisher",
      createPublisher({ client, topology: registry.topology }),
      (p) => p.close(),
      closeMs,
    );
    if (config.http.port !== undefined) {
      http = resources.add(
        "health server",
        await startHealthServer(source, config.http.port, config.http.host, metrics),
        (s) => s.close(),
        closeMs,
      );
      log.info({ port: http.port, host: http.host }, "health server listening");
    }
    const store = resources.add("ledger store", await openStore(config, log), (s) => s?.close(), closeMs);
    const runtime = resources.add(
      "job runtime",
      await startJobRuntime(config, store, log, observer),
      (r) => r.close(),
      closeMs,
    );
    jobs = runtime;
    const schedules = options.schedules;
    const scheduling = { ...config.schedules, ...options.scheduling };
    const ticks = schedules ? scheduleRuntime(store) : undefined;
    if (ticks?.owned) resources.add("schedule store", ticks.store, (s) => s.close(), closeMs);
    const handlers = schedules && ticks ? tickRegistry(registry, schedules, ticks, scheduling) : registry;
    const sendEvent = jobEventSender(publisher, registry.topology);
    for (const binding of bindings) {
      const target = {
        binding,
        topic: registry.topology[binding.topic]!,
        registry: handlers,
        publisher,
        log: logger.child({ topic: binding.topic, subscription: binding.subscription }),
        ...(options.telemetry?.tracing ? { tracing: options.telemetry.tracing } : {}),
      };
      const common = {
        client,
        target,
        observer,
        livenessTimeoutMs: config.livenessTimeoutMs,
        jobs: runtime.forSubscription(binding, binding.policy, sendEvent, target.log),
        ...(options.random ? { random: options.random } : {}),
      };
      const loop: ReceiveLoop = binding.definition.requiresSession
        ? new SessionConsumer({
            ...common,
            client: sessionClient,
            acceptTimeoutMs: config.sessionAcceptTimeoutMs,
            retryDelayMs: config.serviceBus.retryDelayMs,
            settleTimeoutMs: config.serviceBus.timeoutMs,
            closeTimeoutMs: closeMs,
            failureQuietMs: ACCEPT_RETRY_MAX_MS + retryCycleMs(config, config.sessionAcceptTimeoutMs),
          })
        : new SubscriptionConsumer({
            ...common,
            maxLockRenewalMs: config.maxLockRenewalMs,
            failureQuietMs: retryCycleMs(config, config.serviceBus.timeoutMs),
            closeTimeoutMs: closeMs,
          });
      // A session consumer's close first waits out accepts in flight (the SDK cannot abort them).
      const loopCloseMs = closeMs + (binding.definition.requiresSession ? config.sessionAcceptTimeoutMs : 0);
      resources.add(`consumer ${binding.key}`, loop, (l) => l.close(), loopCloseMs);
      loops.push(loop);
      await loop.start();
    }
    if (schedules && ticks) {
      const started = await startScheduler({
        schedules,
        options: scheduling,
        topology: registry.topology,
        client,
        toMessage: (topic, subject, payload, opts) => publisher.toMessage(topic, subject, payload, opts),
        runtime: ticks,
        log: logger.child({ component: "scheduler" }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (started) scheduler = resources.add("scheduler", started, (s) => s.close(), closeMs);
    }
  } catch (error) {
    await resources.close().catch(() => {
      /* each failure was reported by the Resources error hook */
    });
    throw error;
  }
  log.info({ subscriptions: bindings.map((b) => b.key) }, "worker started");

  let closing: Promise<void> | undefined;
  const drainAndClose = async (): Promise<void> => {
    draining = true;
    // Stopping the scheduler and the receivers waits for the broker (a cycle's sends, a receiver's
    // credit drain): bounded, like every close.
    const bounded = async (what: string, step: Promise<void>, fields: object): Promise<void> => {
      if (!(await finishedWithin(step, closeMs)))
        log.warn({ ...fields, timeoutMs: closeMs }, `${what} timed out; draining anyway`);
    };
    if (scheduler) await bounded("stopping the scheduler", scheduler.close(), {});
    log.info("draining: intake stopped");
    await Promise.all(
      loops.map((l) => bounded("stopping the receiver", l.stopIntake(), { subscription: l.key })),
    );
    await Promise.all(loops.map((l, i) => l.drain(bindings[i]!.policy.drainTimeoutMs)));
    log.info("drained; closing");
    // One budget for all the closes: a partition that holds one holds the rest of that connection.
    await resources.close(closeMs + config.sessionAcceptTimeoutMs);
    log.info("worker closed");
  };
  const close = (): Promise<void> => (closing ??= drainAndClose());

  return {
    subscriptions: bindings,
    get http() {
      return http ? { host: http.host, port: http.port } : undefined;
    },
    get draining() {
      return draining;
    },
    get scheduler() {
      return scheduler;
    },
    health: () => {
      const live = liveness(source);
      return { live: live.ok, ready: readiness(source).ok, loops: live.loops };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
