/**
 * Ledger suite: what the idempotency ledger costs. The real worker (`startWorker`, plain
 * subscription, concurrency 16, a no-op handler) drains a pre-filled subscription with no ledger,
 * with the memory store and with the Redis store (REDIS_URL, default redis://127.0.0.1:6379), in
 * the same run. The emulator runs in a child process (the broker is remote in production).
 *
 * Each figure is the median of 5 repetitions (3 with --quick; `--reps=N`), interleaved (off,
 * memory, redis, redis, memory, off, ...), each on a fresh topic and a fresh worker, after one
 * discarded warm-up run of each; 8,000 messages per run (`--messages=N`), timed after the first
 * tenth is settled, until the last.
 * Targets: memory >= 0.95 and Redis >= 0.7 of no ledger.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { ServiceBusMessage } from "@azure/service-bus";
import { defineHandlers } from "../../src/handlers/registry.js";
import { toEmulatorConfig } from "../../src/topics/emulatorConfig.js";
import { loadConfig } from "../../src/worker/config.js";
import { deletePrefix } from "../../test/helpers/redis.js";
import { startWorker } from "../../src/worker/worker.js";
import { Child } from "../lib/child.js";
import { noopTopology, noopWorkerOptions } from "../lib/noopTopic.js";
import { Completion, fillEntity } from "../lib/measure.js";
import { throughput } from "../lib/result.js";
import type { Result } from "../lib/result.js";
import type { Suite, SuiteContext } from "../lib/runner.js";
import { integerOption } from "../lib/options.js";
import { collectGarbage, median } from "../lib/stats.js";

const CHILD = fileURLToPath(new URL("./ledger/emulator.child.ts", import.meta.url));
const CONCURRENCY = 16;
type Mode = "off" | "memory" | "redis";

const topologyFor = (name: string) => noopTopology(name, CONCURRENCY);

function noop(n: number): ServiceBusMessage {
  return { subject: "Noop", body: Buffer.from(`{"n":${n}}`), messageId: `m${n}` };
}

async function drain(
  connectionString: string,
  topic: string,
  mode: Mode,
  messages: number,
  skip: number,
  redisUrl: string,
  prefix: string,
): Promise<number> {
  const topology = topologyFor(topic);
  const completion = new Completion(messages, skip);
  const worker = await startWorker({
    ...noopWorkerOptions({ loadConfig, defineHandlers }, topology, {
      SERVICEBUS_CONNECTION_STRING: connectionString,
      SBW_LEDGER: mode,
      REDIS_URL: redisUrl,
      SBW_LEDGER_PREFIX: prefix,
    }),
    observers: [{ settled: () => completion.tick() }],
  });
  try {
    await completion.done;
    return completion.rate().wall;
  } finally {
    await worker.close();
  }
}

const suite: Suite = {
  name: "ledger",
  description: `no-op handler throughput, concurrency ${CONCURRENCY}: memory and Redis ledger vs none`,
  async run(ctx: SuiteContext): Promise<Result[]> {
    const messages = integerOption(ctx.options, "messages", ctx.quick ? 2_000 : 8_000, 10);
    const skip = Math.floor(messages / 10);
    const reps = integerOption(ctx.options, "reps", ctx.quick ? 3 : 5);
    const redisUrl = ctx.options.get("redis") ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const prefix = `sbw-bench:${randomUUID().slice(0, 8)}:`;
    const order: Mode[] = ["off", "memory", "redis"];
    const schedule: Mode[] = [...order]; // warm-up, discarded
    for (let r = 0; r < reps; r += 1) schedule.push(...(r % 2 === 0 ? order : [...order].reverse()));
    const topics = schedule.map((_, i) => `bench-${i}-${randomUUID().slice(0, 6)}`);
    const config = toEmulatorConfig(Object.fromEntries(topics.map((t) => [t, topologyFor(t).bench])));
    const child = Child.start<{ connectionString: string }>(CHILD, { args: [JSON.stringify(config)] });
    const samples: Record<Mode, number[]> = { off: [], memory: [], redis: [] };
    try {
      const { connectionString } = await child.next();
      for (const [i, mode] of schedule.entries()) {
        const topic = topics[i]!;
        await fillEntity(connectionString, topic, messages, noop);
        collectGarbage();
        const rate = await drain(connectionString, topic, mode, messages, skip, redisUrl, prefix);
        if (i >= order.length) samples[mode].push(rate);
        ctx.log(`${i < order.length ? "warm-up " : ""}${mode}: ${Math.round(rate)} msg/s`);
      }
    } finally {
      await child.stop();
      await deletePrefix(redisUrl, prefix);
    }
    const base = median(samples.off);
    const details = (mode: Mode) => ({
      samples: samples[mode],
      baselineSamples: samples.off,
      messages,
      skip,
    });
    return [
      throughput({
        name: `no-op handler, memory ledger vs none (c=${CONCURRENCY})`,
        unit: "msg/s",
        value: median(samples.memory),
        baseline: base,
        minRatio: 0.95,
        details: details("memory"),
      }),
      throughput({
        name: `no-op handler, Redis ledger vs none (c=${CONCURRENCY})`,
        unit: "msg/s",
        value: median(samples.redis),
        baseline: base,
        minRatio: 0.7,
        details: details("redis"),
      }),
    ];
  },
};

export default suite;
