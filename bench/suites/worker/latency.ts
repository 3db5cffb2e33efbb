/** Publish-to-handler latency at low load, sbworker and the SDK's `subscribe` side by side (../worker.ts). */
import { ServiceBusClient } from "@azure/service-bus";
import type { ServiceBusSender } from "@azure/service-bus";

import type { EmulatorProcess } from "../../lib/emulatorChild.js";
import { Completion, errorText, percentile } from "../../lib/measure.js";
import type { Side } from "../../lib/measure.js";
import { cost } from "../../lib/result.js";
import type { Result } from "../../lib/result.js";
import { collectGarbage, now, sleep } from "../../lib/stats.js";
import { completionObserver, LATENCY_CONCURRENCY, noop, plainTopic, startBenchWorker } from "./shared.js";
import type { Log, PlainTopology, Sizes, WorkerSettings } from "./shared.js";

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

export async function latencyResults(
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
