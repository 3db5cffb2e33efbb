/**
 * Replay suite (issue 6): `sbworker dlq replay` throughput against a plain SDK loop, same
 * emulator (in a child process), same run.
 *
 * - sbworker: `runCli(["dlq", "replay", "<topic>/work", "--yes", "--concurrency", c])` in-process
 *   with captured output, as the integration tests run it, timed from the call to its return: the
 *   whole command (open the client, peek the whole dead-letter queue, plan, then lock, send and
 *   complete each message, close). The details file also splits scan and replay, by the time of
 *   the command's first stdout line (written after planning).
 * - baseline: a plain SDK loop with the same concurrency: a dead-letter receiver in peek-lock
 *   (`receiveMessages` batches of up to 100), for each message `sender.sendMessages(copy)` then
 *   `completeMessage`, at most `c` messages in flight; the copy keeps the body bytes, subject,
 *   content type, correlation id and application properties and is addressed to the same
 *   subscription with `sbw-replay-to` (the same routing as sbworker's default target). Timed from
 *   creating the client to closing it.
 *
 * Each run gets a fresh topic whose subscription's dead-letter queue is pre-filled by sending N
 * 1 KiB messages and dead-lettering each; afterwards the dead-letter queue must be empty and the
 * subscription must hold N messages. Concurrency 1 and 16; median of 3 interleaved repetitions
 * (1 with --quick, `--reps=N`) after one discarded warm-up run of each; target ratio >= 0.8.
 */
import { ServiceBusClient } from "@azure/service-bus";
import type { ServiceBusMessage, ServiceBusReceivedMessage } from "@azure/service-bus";
import { tmpdir } from "node:os";
import { Writable } from "node:stream";
import { z } from "zod";

import { runCli } from "../../src/cli/index.js";
import { defineTopic } from "../../src/topics/dsl.js";
import type { AnyTopicDefinition } from "../../src/topics/dsl.js";
import { toEmulatorConfig } from "../../src/topics/emulatorConfig.js";
import { startEmulatorProcess } from "../lib/emulatorChild.js";
import type { EmulatorProcess } from "../lib/emulatorChild.js";
import { cpuRatioOf, errorText, failureOf, fillEntity, interleave, medianOr0 } from "../lib/measure.js";
import type { Comparison, Rate, Side } from "../lib/measure.js";
import { throughput } from "../lib/result.js";
import type { Result } from "../lib/result.js";
import type { Suite, SuiteContext } from "../lib/runner.js";
import { integerOption } from "../lib/options.js";
import { collectGarbage, median, now } from "../lib/stats.js";

const SUBSCRIPTION = "work";
const CONCURRENCIES = [1, 16] as const;
const BATCH = 100;
const PAD = "x".repeat(1000);

interface Sizes {
  readonly reps: number;
  /** Dead letters per run, by concurrency. */
  readonly messages: Readonly<Record<(typeof CONCURRENCIES)[number], number>>;
  readonly warmup: number;
}

const FULL: Sizes = { reps: 3, messages: { 1: 600, 16: 1_500 }, warmup: 300 };
const QUICK: Sizes = { reps: 1, messages: { 1: 300, 16: 600 }, warmup: 100 };

function topicFor(name: string): AnyTopicDefinition {
  return defineTopic({
    name,
    messages: { Job: z.unknown() },
    subscriptions: { [SUBSCRIPTION]: { lockDurationMs: 60_000, maxDeliveryCount: 10 } },
  });
}

/** Text written to a stream, and when the first chunk came. */
class Capture extends Writable {
  text = "";
  firstAt: number | undefined;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.firstAt ??= now();
    this.text += chunk.toString();
    done();
  }
}

function job(i: number): ServiceBusMessage {
  return {
    subject: "Job",
    body: { n: i, pad: PAD },
    messageId: `job-${i}`,
    correlationId: `c-${i}`,
  };
}

/** Sends `n` messages to `topic` and dead-letters each one from its subscription. */
async function prefill(em: EmulatorProcess, topic: string, n: number): Promise<void> {
  await fillEntity(em.connectionString, topic, n, job);
  const client = new ServiceBusClient(em.connectionString);
  const receiver = client.createReceiver(topic, SUBSCRIPTION, { receiveMode: "peekLock" });
  try {
    for (let done = 0; done < n;) {
      const batch = await receiver.receiveMessages(Math.min(BATCH, n - done), { maxWaitTimeInMs: 5_000 });
      if (batch.length === 0) throw new Error(`pre-fill: only ${done} of ${n} messages arrived`);
      await Promise.all(
        batch.map((m) =>
          receiver.deadLetterMessage(m, {
            deadLetterReason: "BenchFailed",
            deadLetterErrorDescription: "dead-lettered by the replay benchmark",
          }),
        ),
      );
      done += batch.length;
    }
  } finally {
    await receiver.close();
    await client.close();
  }
  const counts = await em.entity(`${topic}/${SUBSCRIPTION}`);
  if (counts.deadLettered !== n || counts.active !== 0)
    throw new Error(
      `pre-fill: ${counts.deadLettered} dead letters and ${counts.active} active, expected ${n} and 0`,
    );
}

interface RunTiming {
  readonly rate: Rate;
  /** sbworker only: time to the end of the scan (first stdout line), ms. */
  readonly scanMs?: number;
  readonly totalMs: number;
}

function cpuSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

async function sbworkerReplay(em: EmulatorProcess, topic: string, n: number, c: number): Promise<RunTiming> {
  const stdout = new Capture();
  const stderr = new Capture();
  const t0 = now();
  const c0 = process.cpuUsage();
  const code = await runCli(
    ["dlq", "replay", `${topic}/${SUBSCRIPTION}`, "--yes", "--concurrency", String(c)],
    {
      signal: new AbortController().signal,
      stdout,
      stderr,
      env: { SERVICEBUS_CONNECTION_STRING: em.connectionString },
      cwd: tmpdir(),
    },
  );
  const ms = now() - t0;
  const cpu = cpuSince(c0);
  if (code !== 0) {
    const last = stderr.text.trim().split("\n").pop() ?? "";
    throw new Error(`sbworker dlq replay exited ${code}: ${last}`);
  }
  if (!new RegExp(`replayed\\s+${n}\\b`).test(stdout.text))
    throw new Error(`sbworker dlq replay did not report ${n} replayed: ${stdout.text.trim()}`);
  return {
    rate: { wall: (n / ms) * 1000, cpu: n / cpu },
    totalMs: ms,
    ...(stdout.firstAt !== undefined ? { scanMs: stdout.firstAt - t0 } : {}),
  };
}

function copyOf(message: ServiceBusReceivedMessage): ServiceBusMessage {
  return {
    body: message.body,
    messageId: `${String(message.messageId)}-replay-${String(message.sequenceNumber)}`,
    ...(message.contentType !== undefined ? { contentType: message.contentType } : {}),
    ...(message.subject !== undefined ? { subject: message.subject } : {}),
    ...(message.correlationId !== undefined ? { correlationId: message.correlationId } : {}),
    applicationProperties: { ...message.applicationProperties, "sbw-replay-to": SUBSCRIPTION },
  };
}

/** The plain SDK loop: peek-lock from the DLQ, send a copy, complete; at most `c` in flight. */
async function sdkReplay(em: EmulatorProcess, topic: string, n: number, c: number): Promise<RunTiming> {
  const t0 = now();
  const c0 = process.cpuUsage();
  const client = new ServiceBusClient(em.connectionString);
  const receiver = client.createReceiver(topic, SUBSCRIPTION, {
    subQueueType: "deadLetter",
    receiveMode: "peekLock",
    skipParsingBodyAsJson: true,
  });
  const sender = client.createSender(topic);
  const inFlight = new Set<Promise<void>>();
  try {
    for (let received = 0; received < n;) {
      const batch = await receiver.receiveMessages(Math.min(BATCH, n - received), { maxWaitTimeInMs: 5_000 });
      if (batch.length === 0) throw new Error(`only ${received} of ${n} dead letters arrived`);
      received += batch.length;
      for (const message of batch) {
        while (inFlight.size >= c) await Promise.race(inFlight);
        const work = (async () => {
          await sender.sendMessages(copyOf(message));
          await receiver.completeMessage(message);
        })();
        inFlight.add(work);
        // Settles the set either way; a failure surfaces through Promise.race / Promise.all.
        const forget = (): void => void inFlight.delete(work);
        work.then(forget, forget);
      }
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
    await sender.close();
    await receiver.close();
    await client.close();
  }
  const ms = now() - t0;
  return { rate: { wall: (n / ms) * 1000, cpu: n / cpuSince(c0) }, totalMs: ms };
}

async function replayOnce(
  em: EmulatorProcess,
  topic: string,
  side: Side,
  n: number,
  c: number,
  scans: number[],
): Promise<Rate> {
  await prefill(em, topic, n);
  collectGarbage();
  const timing =
    side === "sbworker" ? await sbworkerReplay(em, topic, n, c) : await sdkReplay(em, topic, n, c);
  const counts = await em.entity(`${topic}/${SUBSCRIPTION}`);
  if (counts.deadLettered !== 0 || counts.active !== n)
    throw new Error(
      `afterwards: ${counts.deadLettered} dead letters and ${counts.active} active, expected 0 and ${n}`,
    );
  if (timing.scanMs !== undefined) scans.push(timing.scanMs);
  return timing.rate;
}

const suite: Suite = {
  name: "replay",
  description: "sbworker dlq replay vs a plain SDK receive-send-complete loop (concurrency 1, 16)",
  async run(ctx: SuiteContext): Promise<Result[]> {
    const s = ctx.quick ? QUICK : FULL;
    const reps = integerOption(ctx.options, "reps", s.reps);
    const names = new Map(
      CONCURRENCIES.map((c) => [c, Array.from({ length: 2 * (1 + reps) }, (_, i) => `replay-c${c}-${i}`)]),
    );
    const topology = Object.fromEntries([...names.values()].flat().map((name) => [name, topicFor(name)]));
    const em = await startEmulatorProcess(toEmulatorConfig(topology));
    ctx.log(`emulator in a child process; ${reps} repetition(s)`);
    const results: Result[] = [];
    try {
      for (const c of CONCURRENCIES) {
        const n = s.messages[c];
        const scans: number[] = [];
        const comparison: Comparison = await interleave(
          reps,
          (side, i, warmup) =>
            replayOnce(em, names.get(c)![i]!, side, warmup ? s.warmup : n, c, warmup ? [] : scans),
          ctx.log,
          `replay c=${c}`,
        );
        const failure = failureOf(comparison);
        const cpuRatio = cpuRatioOf(comparison);
        const scanMs = scans.length > 0 ? median(scans) : undefined;
        const result = throughput({
          name: `dlq replay, concurrency ${c}, ${n.toLocaleString("en-US")} x 1 KiB dead letters of a subscription: sbworker dlq replay (whole command, scan included) vs plain SDK DLQ receive -> send copy -> complete loop (msg/s)`,
          unit: "msg/s",
          value: medianOr0(comparison.samples.sbworker),
          baseline: medianOr0(comparison.samples.sdk),
          details: {
            samples: comparison.samples,
            cpuSamples: comparison.cpuSamples,
            ...(cpuRatio !== undefined ? { cpuRatio } : {}),
            errors: comparison.errors,
            messages: n,
            ...(scanMs !== undefined
              ? {
                  sbworkerScanMs: { median: scanMs, samples: scans },
                  note: "sbworkerScanMs: from the call to the command's first stdout line (peek of the whole DLQ and planning, before the first message is locked)",
                }
              : {}),
          },
          ...(failure !== undefined ? { failure } : {}),
        });
        results.push(
          cpuRatio === undefined
            ? result
            : {
                ...result,
                note: `messages per CPU-second of the client process: ratio ${cpuRatio.toFixed(3)}${scanMs !== undefined ? `; sbworker's scan took ${Math.round(scanMs)} ms of each run (median)` : ""}`,
              },
        );
      }
    } catch (error) {
      ctx.log(`FAILED: ${errorText(error)}`);
      throw error;
    } finally {
      await em.stop();
    }
    return results;
  },
};

export default suite;
