/**
 * What the worker suite's parts share (../worker.ts): sizes, the topics (every one declared up
 * front, as the emulator's entities are fixed at start), and sbworker started as the suite runs it.
 */
import type { ServiceBusMessage } from "@azure/service-bus";
import { pino } from "pino";
import { z } from "zod";

import type { HandlerMap } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import type { TopologyShape } from "../../../src/topics/dsl.js";
import { toEmulatorConfig } from "../../../src/topics/emulatorConfig.js";
import type { WorkerObserver } from "../../../src/worker/observer.js";
import type { Worker } from "../../../src/worker/worker.js";
import type { WorkerModules } from "../../lib/compiled.js";
import type { EmulatorProcess } from "../../lib/emulatorChild.js";
import { noopTopology } from "../../lib/noopTopic.js";
import { errorText } from "../../lib/measure.js";
import type { Completion } from "../../lib/measure.js";

export type Log = (line: string) => void;

export const CONCURRENCIES = [1, 16, 100] as const;
export const SESSION_SLOTS = 8;
export const MESSAGES_PER_SESSION = 10;
/** The hand-written session loop's default batch: one session's worth (the SDK samples use 10 too). */
export const SDK_SESSION_BATCH = 10;
/**
 * Accept long-poll of both session consumers (sbworker: SBW_SESSION_ACCEPT_TIMEOUT_MS, default
 * 5000; the SDK loop: its client's operation timeout). Only idle accepts at the end of a run wait
 * for it (while sessions are available an accept is answered at once), so a shorter one only
 * makes closing quicker; it is not timed.
 */
export const ACCEPT_TIMEOUT_MS = 2_000;
export const LATENCY_CONCURRENCY = 16;

export interface Sizes {
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
export const FULL: Sizes = {
  reps: 5,
  plain: { 1: 2_000, 16: 10_000, 100: 10_000 },
  plainWarmup: 500,
  sessions: 1_000,
  warmupSessions: 40,
  latencyMessages: 300,
  latencyIntervalMs: 20,
  latencyWarmup: 20,
};

export const QUICK: Sizes = {
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

export const plainTopic = noopTopology;
export type PlainTopology = ReturnType<typeof plainTopic>;

export function sessionTopic(name: string) {
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
export type SessionTopology = ReturnType<typeof sessionTopic>;

/** Every topic the suite will use (the emulator's entities are fixed at start), each used once. */
export class Topics {
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

export interface WorkerSettings {
  readonly ledger: "memory" | "off";
  /** The worker compiled, as production runs it (../lib/compiled.ts), or from source through tsx. */
  readonly modules: WorkerModules;
}

export async function startBenchWorker<T extends TopologyShape>(
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

/** sbworker on `topology` until `completion` is done (or has failed), then closed. */
export async function drainWithWorker<T extends TopologyShape>(
  connectionString: string,
  topology: T,
  handlers: HandlerMap<T>,
  completion: Completion,
  settings: WorkerSettings,
): Promise<void> {
  const worker = await startBenchWorker(
    connectionString,
    topology,
    handlers,
    completionObserver(completion),
    settings,
  );
  try {
    await completion.done;
  } finally {
    await worker.close();
  }
}

/** Fails the run when a side left messages behind (a lost or stuck message would flatter its rate). */
export async function expectDrained(em: EmulatorProcess, path: string): Promise<void> {
  const left = await em.entity(path);
  if (left.active + left.locked !== 0)
    throw new Error(`${left.active + left.locked} messages left in ${path}`);
}

/** Counts completions; anything but a completion, or a receive error, fails the run. */
export function completionObserver(completion: Completion): WorkerObserver {
  return {
    settled: (e) => {
      if (e.settlement.kind === "complete") completion.tick();
      else completion.fail(new Error(`message ${e.messageId} settled as ${e.settlement.kind}`));
    },
    settleFailed: (e) => completion.fail(new Error(`settling ${e.messageId} failed: ${errorText(e.error)}`)),
    receiveError: (e) => completion.fail(new Error(`receive error: ${errorText(e.error)}`)),
  };
}

/** A no-op job: its number is its body and its MessageId. */
export function noop(i: number): ServiceBusMessage {
  return { subject: "Noop", body: { n: i }, messageId: `m${i}` };
}
