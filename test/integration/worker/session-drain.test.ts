/**
 * Draining a worker that holds sessions (scale-in): `worker.close()` in this process, the path
 * SIGTERM takes in src/main.ts. Past the drain timeout a session's running handler is aborted and
 * its message abandoned; a drain that begins during a retry's backoff (sessions retry in place,
 * the lock held) gives the message back at once instead of waiting out the backoff. Either way the
 * next worker takes the session and runs it in order, from the message that was interrupted.
 */
import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import { z } from "zod";
import type { Emulator } from "../../../src/emulator/index.js";
import { defineHandlers, type HandlerMap } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { abortCode } from "../../../src/worker/jobs/abort.js";
import { TransientError } from "../../../src/worker/errors.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";
import {
  entity,
  fastClientOptions,
  Recorder,
  startTestEmulator,
  testClient,
  testConfig,
  testLogger,
  uniqueName,
} from "./helpers.js";

function streamTopology(name: string) {
  return {
    stream: defineTopic({
      name,
      messages: { Step: z.object({ key: z.string(), seq: z.int() }) },
      sessionId: (m) => m.payload.key,
      subscriptions: {
        ordered: { requiresSession: true, policy: { maxConcurrentSessions: 2, maxAttempts: 5 } },
      },
    }),
  } as const;
}
type Stream = ReturnType<typeof streamTopology>;

describe("worker: draining session subscriptions", function () {
  this.timeout(30_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  const workers: Worker[] = [];
  let topic: string;
  let topology: Stream;

  beforeEach(async () => {
    topic = uniqueName("drain");
    topology = streamTopology(topic);
    emulator = await startTestEmulator(topology);
    client = testClient(emulator);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await client.close();
    await emulator.close();
  });

  async function start(
    handlers: HandlerMap<Stream>,
    recorder: Recorder,
    env: Record<string, string>,
  ): Promise<Worker> {
    const worker = await startWorker({
      config: testConfig(emulator, { SBW_SESSION_IDLE_TIMEOUT_MS: "50", ...env }),
      registry: defineHandlers(topology, handlers),
      logger: testLogger(),
      observers: [recorder],
      clientOptions: fastClientOptions,
      random: () => 0.99, // the backoff's jitter at its top: the whole configured delay
    });
    workers.push(worker);
    return worker;
  }

  async function send(key: string, seqs: number[]): Promise<void> {
    const sender = client.createSender(topic);
    await sender.sendMessages(
      seqs.map((seq) => ({
        body: { key, seq },
        subject: "Step",
        sessionId: key,
        messageId: `${key}:${seq}`,
      })),
    );
    await sender.close();
  }

  /** A second worker that records what it runs, in order, until it has run `count` steps. */
  async function takeOver(count: number): Promise<{ seq: number; attempt: number }[]> {
    const runs: { seq: number; attempt: number }[] = [];
    const recorder = new Recorder();
    await start(
      {
        stream: {
          ordered: {
            Step: (step, ctx) => {
              runs.push({ seq: step.seq, attempt: ctx.attempt });
              return Promise.resolve();
            },
          },
        },
      },
      recorder,
      {},
    );
    await recorder.until(() => recorder.count("complete") === count);
    return runs;
  }

  it("past the drain timeout, aborts the session's handler and abandons its message; the next worker resumes the session in order", async () => {
    await send("k", [1, 2, 3]);
    const recorder = new Recorder();
    let abortedWith: string | undefined;
    const first = await start(
      {
        stream: {
          ordered: {
            // Runs until aborted, as a long job that ignores the drain would.
            Step: (_step, ctx) =>
              new Promise<void>((_resolve, reject) => {
                ctx.signal.addEventListener("abort", () => {
                  abortedWith = abortCode(ctx.signal.reason);
                  reject(ctx.signal.reason as Error);
                });
              }),
          },
        },
      },
      recorder,
      { SBW_DRAIN_TIMEOUT_MS: "100" },
    );
    await recorder.until(() => recorder.started.length === 1);
    await first.close();

    assert.equal(abortedWith, "DrainTimeout");
    assert.deepEqual(
      recorder.settledEvents.map((e) => e.settlement.kind),
      ["abandon"],
    );
    const held = entity(emulator, topic, "ordered");
    assert.deepEqual([held.active, held.locked, held.deadLettered], [3, 0, 0]);

    assert.deepEqual(await takeOver(3), [
      { seq: 1, attempt: 2 },
      { seq: 2, attempt: 1 },
      { seq: 3, attempt: 1 },
    ]);
  });

  it("a drain during a retry's backoff gives the message back at once, and the next worker runs it as the next attempt", async () => {
    await send("k", [1, 2]);
    const recorder = new Recorder();
    const runs: number[] = [];
    const first = await start(
      {
        stream: {
          ordered: {
            Step: (step) => {
              runs.push(step.seq);
              return Promise.reject(new TransientError("downstream unavailable"));
            },
          },
        },
      },
      recorder,
      // A backoff far longer than the test: only an interrupted backoff lets close() return in time.
      { SBW_RETRY_BASE_DELAY_MS: "600000", SBW_RETRY_MAX_DELAY_MS: "600000", SBW_DRAIN_TIMEOUT_MS: "60000" },
    );
    await recorder.until(() => recorder.count("retry") === 1);
    await first.close();

    assert.deepEqual(runs, [1]);
    assert.deepEqual(
      recorder.settledEvents.map((e) => e.settlement.kind),
      ["retry", "abandon"],
    );
    const held = entity(emulator, topic, "ordered");
    assert.deepEqual([held.active, held.locked, held.deadLettered], [2, 0, 0]);

    assert.deepEqual(await takeOver(2), [
      { seq: 1, attempt: 2 },
      { seq: 2, attempt: 1 },
    ]);
  });
});
