/**
 * Worker suite (issue 3): sbworker's consumers against hand-written code on the raw
 * `@azure/service-bus` SDK, on the same emulator (in a child process: the broker is remote in
 * production) in the same run.
 *
 * - plain subscription, no-op handler: `startWorker` (concurrency 1, 16, 100) against
 *   `receiver.subscribe` in peek-lock with `completeMessage` in the handler and the same
 *   `maxConcurrentCalls`; messages/s from the first tenth settled to the last; target >= 0.9;
 * - sessions: 1,000 sessions x 10 messages through sbworker's session processor (8 concurrent
 *   sessions, its default idle timeout of 250 ms) against a hand-written loop on
 *   `acceptNextSession` with 8 slots (accept, receive batches of 10 waiting at most 250 ms until
 *   one comes back empty, complete each, close, next); messages/s from start to the last
 *   completion; target: sbworker >= 3x;
 * - publish-to-handler latency at low load: one message every 20 ms to each side (the two
 *   interleaved 10 ms apart, both consumers running at once), p50 and p99, against the raw SDK
 *   `subscribe` (concurrency 16 both).
 *
 * Options: `--reps=N` (throughput repetitions, default 5, 1 with --quick), `--sessions=N`,
 * `--ledger=memory|off` (sbworker's idempotency ledger; default memory, the worker's default
 * without REDIS_URL), `--parts=plain,sessions,latency` (a subset), and the hand-written session
 * loop's shape: `--sdk-session-wait-ms=N` (each receive's wait; default = sbworker's session idle
 * timeout, 250 ms, so both release a session after the same quiet time), `--sdk-session-batch=N`
 * (default 10) and `--sdk-session-loop=drain|once` (default drain: receive until a batch comes back
 * empty; once: one batch per accepted session, then close; the SDK then returns a batch when it is
 * full, or 1 s after its first message when the session has fewer messages than the batch).
 */
import { isServiceBusError, ServiceBusClient } from "@azure/service-bus";
import type { ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusSender } from "@azure/service-bus";
import { pino } from "pino";
import { z } from "zod";

import type { HandlerMap } from "../../src/handlers/registry.js";
import { DEFAULT_POLICY, defineTopic } from "../../src/topics/dsl.js";
import type { TopologyShape } from "../../src/topics/dsl.js";
import { toEmulatorConfig } from "../../src/topics/emulatorConfig.js";
import type { WorkerObserver } from "../../src/worker/observer.js";
import type { Worker } from "../../src/worker/worker.js";
import { loadWorkerModules, workerFromOption } from "../lib/compiled.js";
import type { WorkerModules } from "../lib/compiled.js";
import { startEmulatorProcess } from "../lib/emulatorChild.js";
import { noopTopology } from "../lib/noopTopic.js";
import type { EmulatorProcess } from "../lib/emulatorChild.js";
import {
  Completion,
  cpuRatioOf,
  errorText,
  failureOf,
  fillEntity,
  interleave,
  medianOr0,
  percentile,
} from "../lib/measure.js";
import type { Comparison, Rate, Side } from "../lib/measure.js";
import { BenchOptionError, choiceOption, integerOption } from "../lib/options.js";
import { cost, throughput } from "../lib/result.js";
import type { Result } from "../lib/result.js";
import type { Suite, SuiteContext } from "../lib/runner.js";
import { collectGarbage, now, sleep } from "../lib/stats.js";

type Log = (line: string) => void;

const CONCURRENCIES = [1, 16, 100] as const;
const SESSION_SLOTS = 8;
const MESSAGES_PER_SESSION = 10;
/** The hand-written session loop's default batch: one session's worth (the SDK samples use 10 too). */
const SDK_SESSION_BATCH = 10;
/**
 * Accept long-poll of both session consumers (sbworker: SBW_SESSION_ACCEPT_TIMEOUT_MS, default
 * 5000; the SDK loop: its client's operation timeout). Only idle accepts at the end of a run wait
 * for it (while sessions are available an accept is answered at once), so a shorter one only
 * makes closing quicker; it is not timed.
 */
const ACCEPT_TIMEOUT_MS = 2_000;
const LATENCY_CONCURRENCY = 16;

interface Sizes {
  readonly reps: number;
  /** Messages per plain-subscription run, by concurrency; the first tenth is not timed. */
  readonly plain: Readonly<Record<(typeof CONCURRENCIES)[number], number>>;
  readonly plainWarmup: number;
  readonly sessions: number;
  readonly warmupSessions: number;
  readonly latencyMessages: number;
  readonly latencyIntervalMs: number;
  readonly latencyWarmup: number;
}

// Runs of a second or two and 5 repetitions: with 4,000 messages and 3 repetitions the c=16
// median moved by +-0.05 from run to run on the 2-CPU bench machine.
const FULL: Sizes = {
  reps: 5,
  plain: { 1: 2_000, 16: 10_000, 100: 10_000 },
  plainWarmup: 500,
  sessions: 1_000,
  warmupSessions: 40,
  latencyMessages: 300,
  latencyIntervalMs: 20,
  latencyWarmup: 20,
};

const QUICK: Sizes = {
  reps: 1,
  plain: { 1: 600, 16: 1_500, 100: 1_500 },
  plainWarmup: 300,
  sessions: 100,
  warmupSessions: 16,
  latencyMessages: 100,
  latencyIntervalMs: 20,
  latencyWarmup: 10,
};

// ---- topology ------------------------------------------------------------------------------

const plainTopic = noopTopology;
type PlainTopology = ReturnType<typeof plainTopic>;

function sessionTopic(name: string) {
  return {
    bench: defineTopic({
      name,
      messages: { Step: z.object({ key: z.string(), seq: z.int() }) },
      sessionId: (m) => m.payload.key,
      subscriptions: {
        ordered: {
          requiresSession: true,
          lockDurationMs: 60_000,
          policy: { maxConcurrentSessions: SESSION_SLOTS },
        },
      },
    }),
  } as const;
}
type SessionTopology = ReturnType<typeof sessionTopic>;

/** Every topic the suite will use (the emulator's entities are fixed at start), each used once. */
class Topics {
  private readonly topics = new Map<string, TopologyShape[string]>();
  private next = 0;

  plain(concurrency: number): string {
    const name = `plain-${(this.next += 1)}`;
    this.topics.set(name, plainTopic(name, concurrency).bench);
    return name;
  }

  session(): string {
    const name = `sessions-${(this.next += 1)}`;
    this.topics.set(name, sessionTopic(name).bench);
    return name;
  }

  config(): unknown {
    return toEmulatorConfig(Object.fromEntries(this.topics));
  }
}

// ---- sbworker ------------------------------------------------------------------------------

interface WorkerSettings {
  readonly ledger: "memory" | "off";
  /** The worker compiled, as production runs it (../lib/compiled.ts), or from source through tsx. */
  readonly modules: WorkerModules;
}

async function startBenchWorker<T extends TopologyShape>(
  connectionString: string,
  topology: T,
  handlers: HandlerMap<T>,
  observer: WorkerObserver,
  settings: WorkerSettings,
): Promise<Worker> {
  const { startWorker, loadConfig, defineHandlers } = settings.modules;
  return startWorker({
    config: loadConfig({
      SERVICEBUS_CONNECTION_STRING: connectionString,
      SBW_HTTP_PORT: "off",
      SBW_LOG_LEVEL: "silent",
      SBW_LEDGER: settings.ledger,
      SBW_SESSION_ACCEPT_TIMEOUT_MS: String(ACCEPT_TIMEOUT_MS),
    }),
    registry: defineHandlers(topology, handlers),
    logger: pino({ level: "silent" }),
    observers: [observer],
  });
}

/** Counts completions; anything but a completion, or a receive error, fails the run. */
function completionObserver(completion: Completion): WorkerObserver {
  return {
    settled: (e) => {
      if (e.settlement.kind === "complete") completion.tick();
      else completion.fail(new Error(`message ${e.messageId} settled as ${e.settlement.kind}`));
    },
    settleFailed: (e) => completion.fail(new Error(`settling ${e.messageId} failed: ${errorText(e.error)}`)),
    receiveError: (e) => completion.fail(new Error(`receive error: ${errorText(e.error)}`)),
  };
}

// ---- plain subscription ------------------------------------------------------------------------

function noop(i: number): ServiceBusMessage {
  return { subject: "Noop", body: { n: i }, messageId: `m${i}` };
}

async function plainOnce(
  em: EmulatorProcess,
  topic: string,
  side: Side,
  concurrency: number,
  total: number,
  settings: WorkerSettings,
): Promise<Rate> {
  await fillEntity(em.connectionString, topic, total, noop);
  collectGarbage();
  const completion = new Completion(total, Math.max(1, Math.floor(total / 10)));
  if (side === "sbworker") {
    const topology: PlainTopology = plainTopic(topic, concurrency);
    const worker = await startBenchWorker(
      em.connectionString,
      topology,
      { bench: { work: { Noop: () => Promise.resolve() } } },
      completionObserver(completion),
      settings,
    );
    try {
      await completion.done;
    } finally {
      await worker.close();
    }
  } else {
    const client = new ServiceBusClient(em.connectionString);
    const receiver = client.createReceiver(topic, "work", { receiveMode: "peekLock" });
    const subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          await receiver.completeMessage(message);
          completion.tick();
        },
        processError: async (args) => {
          completion.fail(new Error(`processError (${args.errorSource}): ${errorText(args.error)}`));
          return Promise.resolve();
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: concurrency },
    );
    try {
      await completion.done;
    } finally {
      await subscription.close();
      await receiver.close();
      await client.close();
    }
  }
  const left = await em.entity(`${topic}/work`);
  if (left.active + left.locked !== 0)
    throw new Error(`${left.active + left.locked} messages left in ${topic}/work`);
  return completion.rate();
}

// ---- sessions ----------------------------------------------------------------------------------

/** Tracks per-session order: every message once, in sequence. */
class OrderCheck {
  private readonly next = new Map<string, number>();
  readonly violations: string[] = [];

  see(key: string, seq: number): void {
    const expected = this.next.get(key) ?? 0;
    if (seq !== expected && this.violations.length < 5)
      this.violations.push(`${key}: got ${seq}, expected ${expected}`);
    this.next.set(key, seq + 1);
  }
}

function step(sessions: number): (i: number) => ServiceBusMessage {
  return (i) => {
    const key = `s${Math.floor(i / MESSAGES_PER_SESSION)}`;
    const seq = i % MESSAGES_PER_SESSION;
    if (Math.floor(i / MESSAGES_PER_SESSION) >= sessions) throw new Error("beyond the last session");
    return { subject: "Step", body: { key, seq }, sessionId: key, messageId: `${key}:${seq}` };
  };
}

function stepOf(message: ServiceBusReceivedMessage): { key: string; seq: number } {
  const body = message.body as { key?: unknown; seq?: unknown } | undefined;
  if (typeof body?.key !== "string" || typeof body.seq !== "number")
    throw new Error(`unexpected body ${JSON.stringify(message.body)}`);
  return { key: body.key, seq: body.seq };
}

function isNoSession(error: unknown): boolean {
  return (
    isServiceBusError(error) && (error.code === "ServiceTimeout" || error.code === "SessionCannotBeLocked")
  );
}

/** How the hand-written session loop receives from a session it holds. */
interface SdkSessionLoop {
  /** `drain`: receive batches until one comes back empty; `once`: one batch, then close. */
  readonly mode: "drain" | "once";
  readonly batch: number;
  /** `maxWaitTimeInMs` of each receive. */
  readonly waitMs: number;
}

/**
 * The hand-written SDK session loop: `SESSION_SLOTS` slots, each: accept the next session,
 * receive batches of up to `batch` (waiting at most `waitMs`) until one comes back empty (or just
 * one batch with `once`), complete each message, close the receiver, next.
 */
async function sdkSessions(
  connectionString: string,
  topic: string,
  completion: Completion,
  check: OrderCheck,
  loop: SdkSessionLoop,
): Promise<void> {
  const client = new ServiceBusClient(connectionString, { retryOptions: { timeoutInMs: ACCEPT_TIMEOUT_MS } });
  let stop = false;
  const slot = async (): Promise<void> => {
    while (!stop) {
      let receiver;
      try {
        receiver = await client.acceptNextSession(topic, "ordered");
      } catch (error) {
        if (isNoSession(error)) continue;
        throw error;
      }
      try {
        for (;;) {
          const batch = await receiver.receiveMessages(loop.batch, { maxWaitTimeInMs: loop.waitMs });
          if (batch.length === 0) break;
          for (const message of batch) {
            const s = stepOf(message);
            check.see(s.key, s.seq);
            await receiver.completeMessage(message);
            completion.tick();
          }
          if (loop.mode === "once") break;
        }
      } finally {
        await receiver.close();
      }
    }
  };
  completion.begin();
  const slots = Array.from({ length: SESSION_SLOTS }, () =>
    slot().catch((error: unknown) => completion.fail(new Error(`session slot: ${errorText(error)}`))),
  );
  try {
    await completion.done;
  } finally {
    stop = true;
    await Promise.all(slots);
    await client.close();
  }
}

async function sessionsOnce(
  em: EmulatorProcess,
  topic: string,
  side: Side,
  sessions: number,
  settings: WorkerSettings & { readonly sdkLoop: SdkSessionLoop },
): Promise<Rate> {
  const total = sessions * MESSAGES_PER_SESSION;
  await fillEntity(em.connectionString, topic, total, step(sessions));
  collectGarbage();
  const completion = new Completion(total, 0);
  const check = new OrderCheck();
  if (side === "sbworker") {
    const topology: SessionTopology = sessionTopic(topic);
    completion.begin();
    const worker = await startBenchWorker(
      em.connectionString,
      topology,
      {
        bench: {
          ordered: {
            Step: (payload) => {
              check.see(payload.key, payload.seq);
              return Promise.resolve();
            },
          },
        },
      },
      completionObserver(completion),
      settings,
    );
    try {
      await completion.done;
    } finally {
      await worker.close();
    }
  } else {
    await sdkSessions(em.connectionString, topic, completion, check, settings.sdkLoop);
  }
  if (check.violations.length > 0) throw new Error(`order broken: ${check.violations.join("; ")}`);
  const left = await em.entity(`${topic}/ordered`);
  if (left.active + left.locked !== 0)
    throw new Error(`${left.active + left.locked} messages left in ${topic}/ordered`);
  return completion.rate();
}

// ---- latency -----------------------------------------------------------------------------------

interface LatencySamples {
  readonly sbworker: number[];
  readonly sdk: number[];
}

/**
 * Both consumers run at once on their own topic; one publisher client sends a message to each
 * every `intervalMs`, the two interleaved half an interval apart (alternating which goes first),
 * and each handler records the time since the send began.
 */
async function latency(
  em: EmulatorProcess,
  topics: Record<Side, string>,
  s: Sizes,
  settings: WorkerSettings,
  log: Log,
): Promise<LatencySamples> {
  const sentAt: Record<Side, Map<number, number>> = { sbworker: new Map(), sdk: new Map() };
  const samples: LatencySamples = { sbworker: [], sdk: [] };
  const total = s.latencyWarmup + s.latencyMessages;
  const completion: Record<Side, Completion> = {
    sbworker: new Completion(total, 0, 30_000),
    sdk: new Completion(total, 0, 30_000),
  };
  const record = (side: Side, n: number): void => {
    const t = sentAt[side].get(n);
    if (t === undefined) completion[side].fail(new Error(`${side} got unknown message ${n}`));
    else if (n >= s.latencyWarmup) samples[side].push(now() - t);
  };
  const topology: PlainTopology = plainTopic(topics.sbworker, LATENCY_CONCURRENCY);
  const worker = await startBenchWorker(
    em.connectionString,
    topology,
    {
      bench: {
        work: {
          Noop: (payload) => {
            record("sbworker", payload.n);
            return Promise.resolve();
          },
        },
      },
    },
    completionObserver(completion.sbworker),
    settings,
  );
  const client = new ServiceBusClient(em.connectionString);
  const receiver = client.createReceiver(topics.sdk, "work", { receiveMode: "peekLock" });
  const subscription = receiver.subscribe(
    {
      processMessage: async (message) => {
        const body = message.body as { n?: unknown } | undefined;
        record("sdk", typeof body?.n === "number" ? body.n : -1);
        await receiver.completeMessage(message);
        completion.sdk.tick();
      },
      processError: async (args) => {
        completion.sdk.fail(new Error(`processError (${args.errorSource}): ${errorText(args.error)}`));
        return Promise.resolve();
      },
    },
    { autoCompleteMessages: false, maxConcurrentCalls: LATENCY_CONCURRENCY },
  );
  const publisher = new ServiceBusClient(em.connectionString);
  const senders: Record<Side, ServiceBusSender> = {
    sbworker: publisher.createSender(topics.sbworker),
    sdk: publisher.createSender(topics.sdk),
  };
  try {
    // Attach both senders (and let both receivers attach) before the first timed message.
    await Promise.all(Object.values(senders).map((sender) => sender.createMessageBatch()));
    await sleep(500);
    collectGarbage();
    const start = now();
    const half = s.latencyIntervalMs / 2;
    for (let n = 0; n < total; n += 1) {
      const order: readonly Side[] = n % 2 === 0 ? ["sbworker", "sdk"] : ["sdk", "sbworker"];
      for (const [k, side] of order.entries()) {
        const due = start + n * s.latencyIntervalMs + k * half;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        sentAt[side].set(n, now());
        await senders[side].sendMessages(noop(n));
      }
      if (completion.sbworker.settled && completion.sbworker.count < total) await completion.sbworker.done;
      if (completion.sdk.settled && completion.sdk.count < total) await completion.sdk.done;
    }
    await Promise.all([completion.sbworker.done, completion.sdk.done]);
    log(
      `latency: ${samples.sbworker.length} + ${samples.sdk.length} samples over ${Math.round((now() - start) / 1000)} s`,
    );
  } finally {
    await Promise.all(Object.values(senders).map((sender) => sender.close()));
    await publisher.close();
    await subscription.close();
    await receiver.close();
    await client.close();
    await worker.close();
  }
  return samples;
}

// ---- results -----------------------------------------------------------------------------------

function compared(
  name: string,
  c: Comparison,
  minRatio: number,
  extra: Readonly<Record<string, unknown>>,
): Result {
  const failure = failureOf(c);
  const cpuRatio = cpuRatioOf(c);
  const result = throughput({
    name,
    unit: "msg/s",
    value: medianOr0(c.samples.sbworker),
    baseline: medianOr0(c.samples.sdk),
    minRatio,
    details: {
      samples: c.samples,
      cpuSamples: c.cpuSamples,
      ...(cpuRatio !== undefined ? { cpuRatio } : {}),
      errors: c.errors,
      ...extra,
    },
    ...(failure !== undefined ? { failure } : {}),
  });
  return cpuRatio === undefined
    ? result
    : { ...result, note: `messages per CPU-second of the client process: ratio ${cpuRatio.toFixed(3)}` };
}

async function latencyResults(
  em: EmulatorProcess,
  latencyTopics: Record<Side, string>,
  s: Sizes,
  settings: WorkerSettings,
  log: Log,
  results: Result[],
): Promise<void> {
  let lat: LatencySamples | undefined;
  let latencyFailure: string | undefined;
  try {
    lat = await latency(em, latencyTopics, s, settings, log);
  } catch (error) {
    latencyFailure = errorText(error);
    log(`latency: FAILED: ${latencyFailure}`);
  }
  for (const p of [50, 99]) {
    const value = lat ? percentile(lat.sbworker, p) : 0;
    const baseline = lat ? percentile(lat.sdk, p) : 0;
    log(`latency p${p}: sbworker ${value.toFixed(2)} ms, SDK ${baseline.toFixed(2)} ms`);
    results.push(
      cost({
        name: `publish-to-handler latency p${p}, 1 message every ${s.latencyIntervalMs} ms x ${s.latencyMessages}, concurrency ${LATENCY_CONCURRENCY}: sbworker vs SDK subscribe (ms; ratio = baseline/value)`,
        unit: "ms",
        value,
        baseline,
        details: {
          messages: s.latencyMessages,
          intervalMs: s.latencyIntervalMs,
          warmupMessages: s.latencyWarmup,
          ...(lat
            ? {
                sbworker: { min: percentile(lat.sbworker, 0), p90: percentile(lat.sbworker, 90) },
                sdk: { min: percentile(lat.sdk, 0), p90: percentile(lat.sdk, 90) },
                samples: lat,
              }
            : {}),
        },
        ...(latencyFailure !== undefined ? { failure: latencyFailure } : {}),
      }),
    );
  }
}

const suite: Suite = {
  name: "worker",
  description: "sbworker consumers (plain, sessions, latency) vs hand-written @azure/service-bus code",
  async run(ctx: SuiteContext): Promise<Result[]> {
    const s = ctx.quick ? QUICK : FULL;
    const reps = integerOption(ctx.options, "reps", s.reps);
    const sessions = integerOption(ctx.options, "sessions", s.sessions);
    const ledgerOption = choiceOption(ctx.options, "ledger", ["memory", "off"] as const, "memory");
    const idleMs = DEFAULT_POLICY.sessionIdleTimeoutMs;
    const sdkMode = choiceOption(ctx.options, "sdk-session-loop", ["drain", "once"] as const, "drain");
    const parts = new Set((ctx.options.get("parts") ?? "plain,sessions,latency").split(","));
    for (const p of parts)
      if (!["plain", "sessions", "latency"].includes(p))
        throw new BenchOptionError(`--parts: unknown part ${p}; expected plain, sessions, latency`);
    const modules = await loadWorkerModules(workerFromOption(ctx.options), ctx.log);
    const settings = {
      ledger: ledgerOption,
      modules,
      sdkLoop: {
        mode: sdkMode,
        batch: integerOption(ctx.options, "sdk-session-batch", SDK_SESSION_BATCH),
        waitMs: integerOption(ctx.options, "sdk-session-wait-ms", idleMs, 0),
      },
    } as const;
    const loop = settings.sdkLoop;

    // Every run gets fresh topics, all declared up front.
    const topics = new Topics();
    const runs = 1 + reps; // warm-up pair + reps pairs, two topics each
    const plainTopics = new Map(
      CONCURRENCIES.map((c) => [c, Array.from({ length: 2 * runs }, () => topics.plain(c))]),
    );
    const sessionTopics = Array.from({ length: 4 }, () => topics.session()); // warm-up pair + one timed pair
    const latencyTopics: Record<Side, string> = {
      sbworker: topics.plain(LATENCY_CONCURRENCY),
      sdk: topics.plain(LATENCY_CONCURRENCY),
    };
    const em = await startEmulatorProcess(topics.config());
    ctx.log(
      `emulator in a child process; worker ${modules.from}; ledger ${settings.ledger}; ${reps} repetition(s)`,
    );
    const results: Result[] = [];
    try {
      for (const c of parts.has("plain") ? CONCURRENCIES : []) {
        const total = s.plain[c];
        const comparison = await interleave(
          reps,
          (side, i, warmup) =>
            plainOnce(em, plainTopics.get(c)![i]!, side, c, warmup ? s.plainWarmup : total, settings),
          ctx.log,
          `plain c=${c}`,
        );
        results.push(
          compared(
            `plain subscription, no-op handler, concurrency ${c}: sbworker vs SDK subscribe peek-lock + completeMessage, ${total.toLocaleString("en-US")} messages (msg/s)`,
            comparison,
            0.9,
            {
              messagesPerRun: total,
              timedFrom: Math.floor(total / 10),
              ledger: settings.ledger,
              workerFrom: modules.from,
            },
          ),
        );
      }

      // Sessions: one timed run each (a full run takes tens of seconds), after a small warm-up.
      if (parts.has("sessions")) {
        const sessionRuns = await interleave(
          1,
          (side, i, warmup) =>
            sessionsOnce(em, sessionTopics[i]!, side, warmup ? s.warmupSessions : sessions, settings),
          ctx.log,
          "sessions",
        );
        results.push(
          compared(
            `sessions, ${sessions.toLocaleString("en-US")} x ${MESSAGES_PER_SESSION} messages, ${SESSION_SLOTS} concurrent sessions: sbworker session processor (idle ${idleMs} ms) vs hand-written SDK acceptNextSession loop (${loop.mode === "drain" ? "batches" : "one batch"} of ${loop.batch}, receive wait ${loop.waitMs} ms${loop.mode === "drain" ? ", until empty" : ""}) (msg/s)`,
            sessionRuns,
            3,
            {
              sessions,
              messagesPerSession: MESSAGES_PER_SESSION,
              sbworkerSessionIdleTimeoutMs: idleMs,
              sdkLoop: loop,
              acceptTimeoutMs: ACCEPT_TIMEOUT_MS,
              timed: "from start to the last completion",
            },
          ),
        );
      }
      if (parts.has("latency")) await latencyResults(em, latencyTopics, s, settings, ctx.log, results);
    } finally {
      await em.stop();
    }
    return results;
  },
};

export default suite;
