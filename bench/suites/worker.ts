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
 *
 * The parts are in ./worker/: plain.ts, sessions.ts, latency.ts, and what they share, shared.ts.
 */
import { DEFAULT_POLICY } from "../../src/topics/dsl.js";
import { loadWorkerModules, workerFromOption } from "../lib/compiled.js";
import { startEmulatorProcess } from "../lib/emulatorChild.js";
import { cpuRatioOf, failureOf, interleave, medianOr0 } from "../lib/measure.js";
import type { Comparison, Side } from "../lib/measure.js";
import { BenchOptionError, choiceOption, integerOption } from "../lib/options.js";
import { throughput } from "../lib/result.js";
import type { Result } from "../lib/result.js";
import type { Suite, SuiteContext } from "../lib/runner.js";
import { latencyResults } from "./worker/latency.js";
import { plainOnce } from "./worker/plain.js";
import { sessionsOnce } from "./worker/sessions.js";
import {
  CONCURRENCIES,
  FULL,
  LATENCY_CONCURRENCY,
  MESSAGES_PER_SESSION,
  QUICK,
  SDK_SESSION_BATCH,
  SESSION_SLOTS,
  Topics,
  ACCEPT_TIMEOUT_MS,
} from "./worker/shared.js";

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
