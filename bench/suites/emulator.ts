/**
 * Emulator suite: the embedded emulator against a minimal rhea server that does no broker work
 * (bench/baseline/minimal-server.ts), both driven by the official `@azure/service-bus` SDK.
 *
 * - SDK batch send, 100 x 1 KiB per batch, one batch in flight (messages/s);
 * - SDK `subscribe` in peek-lock with autoCompleteMessages at maxConcurrentCalls 1 and 100
 *   (messages/s received and completed; the emulator queue is pre-filled first);
 * - start to listening: the first `startEmulator({ port: 0 })` in a fresh process, against the
 *   first start of the minimal server in a fresh process (ms; target < 100 ms);
 * - memory per queued 1 KiB message at 200,000 messages, emulator in a child process with
 *   --expose-gc, SDK client in this one (bytes; budget 2048).
 *
 * Fairness: by default both servers run in the benchmark process next to the SDK client, as in
 * the tests (`--mode=child` puts both in child processes instead, `--mode=both` does both). Each
 * throughput figure is the median of 5 repetitions (3 with --quick), interleaved A B B A A B, each on a fresh
 * server and client, after one discarded warm-up run of each server.
 *
 * The emulator runs compiled (`tsc` into .tmp/bench-dist, as `sbworker emulator` and `npm start`
 * run dist/); `--emulator-from=source` loads it through tsx, `--emulator=path` any build.
 *
 * A server that breaks (an error, an uncaught exception, or no progress for 15 s) fails the
 * measurement (value 0 when no run succeeded) and the suite carries on.
 */
import { ServiceBusClient } from "@azure/service-bus";
import type { ServiceBusSender } from "@azure/service-bus";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

import { Child } from "../lib/child.js";
import { compiledModuleUrl, workerFromOption } from "../lib/compiled.js";
import { budget, cost, throughput } from "../lib/result.js";
import type { Result } from "../lib/result.js";
import type { Suite, SuiteContext } from "../lib/runner.js";
import { choiceOption } from "../lib/options.js";
import { collectGarbage, median, now } from "../lib/stats.js";
import type { ChildMessage } from "./emulator/server.child.js";
import { BENCH_QUEUE, emulatorModuleUrl, PAYLOAD, SERVER_KINDS, startServer } from "./emulator/servers.js";
import type { RunningServer, ServerKind } from "./emulator/servers.js";

const CHILD_SCRIPT = fileURLToPath(new URL("./emulator/server.child.ts", import.meta.url));
const BATCH = 100;
const MESSAGE = { body: PAYLOAD };
const CLIENT_OPTIONS = { retryOptions: { maxRetries: 0, timeoutInMs: 30_000 } };
const STALL_MS = 15_000;

type Mode = "inproc" | "child";
type Log = (line: string) => void;

interface Sizes {
  readonly reps: number;
  readonly sendMessages: number;
  readonly sendWarmup: number;
  /** maxConcurrentCalls -> messages timed (after `receiveSkip` untimed ones). */
  readonly receiveMessages: Readonly<Record<number, number>>;
  readonly receiveSkip: number;
  readonly startProcesses: number;
  readonly memoryMessages: number;
}

const FULL: Sizes = {
  // Five: on a shared 2-CPU VM single runs of the *baseline* swing by a third; the median holds.
  reps: 5,
  sendMessages: 20_000,
  sendWarmup: 2_000,
  receiveMessages: { 1: 5_000, 100: 20_000 },
  receiveSkip: 500,
  startProcesses: 3,
  memoryMessages: 200_000,
};

const QUICK: Sizes = {
  reps: 3,
  sendMessages: 3_000,
  sendWarmup: 500,
  receiveMessages: { 1: 1_000, 100: 3_000 },
  receiveSkip: 200,
  startProcesses: 2,
  memoryMessages: 20_000,
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- servers -------------------------------------------------------------------------------

interface BenchServer extends RunningServer {
  /** Messages held in the bench queue, asked of the server wherever it runs. */
  held(): Promise<number | undefined>;
}

/** A server for one repetition: in this process, or in a child process. */
async function launch(kind: ServerKind, mode: Mode): Promise<BenchServer> {
  if (mode === "inproc") {
    const s = await startServer(kind);
    return { ...s, held: () => Promise.resolve(s.queued()) };
  }
  const child = Child.start<ChildMessage>(CHILD_SCRIPT, { args: [kind] });
  const ready = await child.next();
  if (ready.type !== "ready") throw new Error(`server child: ${JSON.stringify(ready)}`);
  return {
    kind,
    connectionString: ready.connectionString,
    queued: () => undefined,
    held: async () => {
      const m = await child.request({ type: "queued" });
      return m.type === "queued" ? m.queued : undefined;
    },
    close: () => child.stop(),
  };
}

/**
 * Runs `fn`, failing it when an exception escapes to the process (an in-process server that
 * throws from a timer would otherwise take the benchmark down).
 */
async function trapUncaught<T>(fn: () => Promise<T>): Promise<T> {
  let listener: ((e: unknown) => void) | undefined;
  const trapped = new Promise<never>((_, reject) => {
    listener = (e: unknown) => reject(new Error(`uncaught exception: ${message(e)}`));
    process.on("uncaughtException", listener);
  });
  try {
    return await Promise.race([fn(), trapped]);
  } finally {
    process.off("uncaughtException", listener!);
  }
}

// ---- SDK workloads ------------------------------------------------------------------------------

/** Sends `count` messages as batches of 100, one batch in flight. */
async function sendBatches(sender: ServiceBusSender, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += BATCH) {
    const batch = await sender.createMessageBatch();
    for (let i = 0; i < BATCH; i += 1) {
      if (!batch.tryAddMessage(MESSAGE)) throw new Error("a 100 x 1 KiB batch did not fit");
    }
    await sender.sendMessages(batch);
  }
}

/** Sends `count` messages as batches of 100 with `parallel` batches in flight (pre-fill only). */
async function fill(sender: ServiceBusSender, count: number, parallel = 4): Promise<void> {
  const per = Math.ceil(count / BATCH / parallel) * BATCH;
  const jobs: Promise<void>[] = [];
  for (let start = 0; start < count; start += per)
    jobs.push(sendBatches(sender, Math.min(per, count - start)));
  await Promise.all(jobs);
}

async function withClient<T>(
  connectionString: string,
  fn: (client: ServiceBusClient) => Promise<T>,
): Promise<T> {
  const client = new ServiceBusClient(connectionString, CLIENT_OPTIONS);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/**
 * A repetition's outcome: messages/s by the wall clock, and messages per CPU-second of this
 * process (client and, in-process, server together), which other load on the machine skews less.
 */
interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
}

/** One batch-send repetition. */
async function batchSendOnce(server: BenchServer, s: Sizes): Promise<Rate> {
  const rate = await withClient(server.connectionString, async (client) => {
    const sender = client.createSender(BENCH_QUEUE);
    await sendBatches(sender, s.sendWarmup);
    const t0 = now();
    const c0 = process.cpuUsage();
    await sendBatches(sender, s.sendMessages);
    return { wall: (s.sendMessages / (now() - t0)) * 1000, cpu: s.sendMessages / cpuSeconds(c0) };
  });
  const held = await server.held();
  if (held !== undefined && held !== s.sendWarmup + s.sendMessages) {
    throw new Error(`the emulator holds ${held} messages, expected ${s.sendWarmup + s.sendMessages}`);
  }
  return rate;
}

/**
 * One subscribe repetition: messages received and completed, timed from the `skip`-th handler
 * call to the `skip + timed`-th (so link attach and the first deliveries are not timed).
 */
async function subscribeOnce(
  server: BenchServer,
  maxConcurrentCalls: number,
  timed: number,
  skip: number,
): Promise<Rate> {
  return withClient(server.connectionString, async (client) => {
    if (server.kind === "emulator") {
      const sender = client.createSender(BENCH_QUEUE);
      await fill(sender, skip + timed + maxConcurrentCalls);
      await sender.close();
    }
    collectGarbage();
    const receiver = client.createReceiver(BENCH_QUEUE, { receiveMode: "peekLock" });
    let handled = 0;
    let t0 = 0;
    let t1 = 0;
    let c0 = process.cpuUsage();
    let cpu = 0;
    let settled = false;
    let subscription: { close(): Promise<void> } | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        if (error) reject(error);
        else resolve();
      };
      let lastHandled = -1;
      let lastProgress = now();
      watchdog = setInterval(() => {
        if (handled !== lastHandled) {
          lastHandled = handled;
          lastProgress = now();
        } else if (now() - lastProgress > STALL_MS) {
          finish(
            new Error(
              `stalled after ${handled} of ${skip + timed} messages (no progress for ${STALL_MS / 1000} s)`,
            ),
          );
        }
      }, 500);
      subscription = receiver.subscribe(
        {
          processMessage: async () => {
            handled += 1;
            if (handled === skip) {
              t0 = now();
              c0 = process.cpuUsage();
            }
            if (handled === skip + timed) {
              t1 = now();
              cpu = cpuSeconds(c0);
              finish();
            }
            return Promise.resolve();
          },
          processError: async (args) => {
            finish(
              new Error(
                `processError (${args.errorSource}) after ${handled} messages: ${message(args.error)}`,
              ),
            );
            return Promise.resolve();
          },
        },
        { maxConcurrentCalls, autoCompleteMessages: true },
      );
    });
    try {
      await done;
    } finally {
      await subscription?.close();
      await receiver.close();
    }
    return { wall: (timed / (t1 - t0)) * 1000, cpu: timed / cpu };
  });
}

// ---- comparisons ----------------------------------------------------------------------------

interface Runs {
  samples: Record<ServerKind, number[]>;
  cpuSamples: Record<ServerKind, number[]>;
  errors: Record<ServerKind, string[]>;
}

/**
 * Throughput, emulator vs minimal: one discarded warm-up run each, then `reps` interleaved
 * repetitions (A B B A A B), each on a fresh server. After a failure the server's remaining
 * repetitions are skipped (each failure can cost the stall timeout).
 */
async function compare(
  name: string,
  mode: Mode,
  reps: number,
  run: (server: BenchServer, warmup: boolean) => Promise<Rate>,
  log: Log,
): Promise<Result> {
  const runs: Runs = {
    samples: { emulator: [], minimal: [] },
    cpuSamples: { emulator: [], minimal: [] },
    errors: { emulator: [], minimal: [] },
  };
  const once = async (kind: ServerKind, warmup: boolean): Promise<void> => {
    if (runs.errors[kind].length > 0) return;
    collectGarbage();
    const server = await launch(kind, mode);
    try {
      const rate = await trapUncaught(() => run(server, warmup));
      const cpuNote = mode === "inproc" ? ` (${Math.round(rate.cpu)} per CPU-second)` : "";
      log(`${warmup ? "warm-up " : ""}${kind}: ${Math.round(rate.wall)} msg/s${cpuNote}`);
      if (!warmup) {
        runs.samples[kind].push(rate.wall);
        runs.cpuSamples[kind].push(rate.cpu);
      }
    } catch (error) {
      log(`${warmup ? "warm-up " : ""}${kind}: FAILED: ${message(error)}`);
      runs.errors[kind].push(`${warmup ? "warm-up: " : ""}${message(error)}`);
    } finally {
      await server.close().catch(() => undefined);
    }
  };
  log(name);
  for (const kind of SERVER_KINDS) await once(kind, true);
  for (let rep = 0; rep < reps; rep += 1) {
    for (const kind of rep % 2 === 0 ? SERVER_KINDS : [...SERVER_KINDS].reverse()) await once(kind, false);
  }
  const failures = SERVER_KINDS.filter((k) => runs.errors[k].length > 0).map(
    (k) => `${k}: ${runs.errors[k].join("; ")}`,
  );
  const cpuRatio =
    mode === "inproc" && runs.cpuSamples.emulator.length > 0 && runs.cpuSamples.minimal.length > 0
      ? median(runs.cpuSamples.emulator) / median(runs.cpuSamples.minimal)
      : undefined;
  const result = throughput({
    name,
    unit: "msg/s",
    value: runs.samples.emulator.length > 0 ? median(runs.samples.emulator) : 0,
    baseline: runs.samples.minimal.length > 0 ? median(runs.samples.minimal) : 0,
    details: {
      samples: runs.samples,
      errors: runs.errors,
      statistic: `median of ${reps}`,
      // Messages per CPU-second of the whole process (client + server): less sensitive to other
      // load on the machine than the wall clock; same orientation as the ratio.
      ...(cpuRatio !== undefined ? { cpuSamples: runs.cpuSamples, cpuRatio } : {}),
    },
    ...(failures.length > 0 ? { failure: failures.join(" | ") } : {}),
  });
  return cpuRatio === undefined
    ? result
    : { ...result, note: `messages per CPU-second of the process: ratio ${cpuRatio.toFixed(3)}` };
}

async function throughputs(mode: Mode, s: Sizes, log: Log): Promise<Result[]> {
  const where = mode === "inproc" ? "server in the SDK's process" : "server in a child process";
  const out: Result[] = [];
  out.push(
    await compare(
      `SDK batch send, 100 x 1 KiB per batch, 1 batch in flight (messages/s; ${where})`,
      mode,
      s.reps,
      (server) => batchSendOnce(server, s),
      log,
    ),
  );
  for (const mcc of [1, 100]) {
    const timed = s.receiveMessages[mcc]!;
    out.push(
      await compare(
        `SDK subscribe peek-lock + complete, maxConcurrentCalls ${mcc}, queue pre-filled with ${(s.receiveSkip + timed + mcc).toLocaleString("en-US")} (messages/s; ${where})`,
        mode,
        s.reps,
        (server, warmup) =>
          subscribeOnce(server, mcc, warmup ? Math.min(timed, 1_000) : timed, s.receiveSkip),
        log,
      ),
    );
  }
  return out;
}

// ---- start time -------------------------------------------------------------------------------

/** Start to listening in fresh processes: the first start of each server, interleaved. */
async function startTimes(s: Sizes, log: Log): Promise<Result> {
  const cold: Record<ServerKind, number[]> = { emulator: [], minimal: [] };
  const importMs: Record<ServerKind, number[]> = { emulator: [], minimal: [] };
  const warm: Record<ServerKind, number[]> = { emulator: [], minimal: [] };
  for (let i = 0; i < s.startProcesses; i += 1) {
    for (const kind of i % 2 === 0 ? SERVER_KINDS : [...SERVER_KINDS].reverse()) {
      const child = Child.start<ChildMessage>(CHILD_SCRIPT, { args: [kind] });
      try {
        const ready = await child.next();
        if (ready.type !== "ready") throw new Error(`server child: ${JSON.stringify(ready)}`);
        cold[kind].push(ready.startMs);
        importMs[kind].push(ready.importMs);
        const w = await child.request({ type: "warm-start", count: 5 });
        if (w.type === "warm-start") warm[kind].push(median(w.ms));
      } finally {
        await child.stop();
      }
    }
  }
  const value = median(cold.emulator);
  const baseline = median(cold.minimal);
  log(
    `start: emulator ${value.toFixed(1)} ms, minimal ${baseline.toFixed(1)} ms (first start in a fresh process)`,
  );
  return cost({
    name: "start to listening: first startEmulator({port:0}) in a fresh process, modules already imported (ms; baseline = minimal rhea server the same way; ratio = baseline/value; target is absolute)",
    unit: "ms",
    value,
    baseline,
    maxValue: 100,
    details: {
      coldStartMs: cold,
      warmStartMedianMs: warm,
      importMs,
      note: "startMs covers config parsing, topology and listen; importMs (tsx-transpiled module loading) is not included",
    },
  });
}

// ---- memory -----------------------------------------------------------------------------------

/** Memory per queued 1 KiB message: emulator in a child with --expose-gc, SDK client here. */
async function memoryPerMessage(s: Sizes, log: Log): Promise<Result> {
  const n = s.memoryMessages;
  const name = `memory per queued 1 KiB message at ${n.toLocaleString("en-US")} messages (bytes; (heapUsed+external) delta / n after forced GC; baseline = 2048 B budget; ratio = 2048/value)`;
  const child = Child.start<ChildMessage>(CHILD_SCRIPT, { args: ["emulator"], nodeFlags: ["--expose-gc"] });
  try {
    const ready = await child.next();
    if (ready.type !== "ready") throw new Error(`server child: ${JSON.stringify(ready)}`);
    const memory = async (): Promise<NodeJS.MemoryUsage> => {
      const m = await child.request({ type: "memory" });
      if (m.type !== "memory" || !m.gc) throw new Error(`memory: ${JSON.stringify(m)}`);
      return m.usage;
    };
    const warmup = 2_000;
    let sendSeconds = 0;
    const { before, after, held } = await withClient(ready.connectionString, async (client) => {
      const sender = client.createSender(BENCH_QUEUE);
      await fill(sender, warmup);
      const b = await memory();
      const t0 = now();
      await fill(sender, n);
      sendSeconds = (now() - t0) / 1000;
      const a = await memory();
      const q = await child.request({ type: "queued" });
      return { before: b, after: a, held: q.type === "queued" ? q.queued : undefined };
    });
    if (held !== warmup + n)
      throw new Error(`the emulator holds ${String(held)} messages, expected ${warmup + n}`);
    // `external` already includes `arrayBuffers` (every Buffer), so heapUsed + external is the total.
    const perMessage = (after.heapUsed + after.external - before.heapUsed - before.external) / n;
    const arrayBuffersTwice =
      (after.heapUsed +
        after.external +
        after.arrayBuffers -
        before.heapUsed -
        before.external -
        before.arrayBuffers) /
      n;
    log(
      `memory: ${perMessage.toFixed(0)} B/message over ${n} messages (sent at ${Math.round(n / sendSeconds)} msg/s)`,
    );
    return budget({
      name,
      unit: "bytes",
      value: perMessage,
      budget: 2048,
      details: {
        messages: n,
        heapUsedPerMessage: (after.heapUsed - before.heapUsed) / n,
        externalPerMessage: (after.external - before.external) / n,
        arrayBuffersPerMessage: (after.arrayBuffers - before.arrayBuffers) / n,
        rssPerMessage: (after.rss - before.rss) / n,
        heapUsedPlusExternalPlusArrayBuffersPerMessage: arrayBuffersTwice,
        note: "external includes arrayBuffers; adding arrayBuffers again would count every Buffer twice",
        before,
        after,
        sendMessagesPerSecond: n / sendSeconds,
      },
    });
  } catch (error) {
    log(`memory: FAILED: ${message(error)}`);
    return budget({ name, unit: "bytes", value: 0, budget: 2048, failure: message(error) });
  } finally {
    await child.stop();
  }
}

// ---- the suite --------------------------------------------------------------------------------

const suite: Suite = {
  name: "emulator",
  description: "embedded emulator vs a minimal no-broker rhea server, through @azure/service-bus",
  async run(ctx: SuiteContext): Promise<Result[]> {
    const s = ctx.quick ? QUICK : FULL;
    const modeOption = choiceOption(ctx.options, "mode", ["inproc", "child", "both"] as const, "inproc");
    const modes: Mode[] = modeOption === "both" ? ["inproc", "child"] : [modeOption];
    const override = ctx.options.get("emulator");
    const from = workerFromOption(ctx.options, "emulator-from");
    // Children inherit the environment, so every server loads the same module. By default the
    // compiled emulator, as `sbworker emulator` and `npm start` run it (dist/); tsx would wrap
    // every function expression of the emulator's per-message path in a `__name` helper.
    if (override !== undefined)
      process.env.BENCH_EMULATOR_MODULE = pathToFileURL(path.resolve(override)).href;
    else if (from === "compiled")
      process.env.BENCH_EMULATOR_MODULE = await compiledModuleUrl("emulator/index", ctx.log);
    ctx.log(`emulator module: ${emulatorModuleUrl()}`);
    const results: Result[] = [];
    for (const mode of modes) results.push(...(await throughputs(mode, s, ctx.log)));
    results.push(await startTimes(s, ctx.log));
    results.push(await memoryPerMessage(s, ctx.log));
    return results;
  },
};

export default suite;
