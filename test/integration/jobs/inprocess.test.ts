/**
 * Heartbeats and lock loss with the worker in this process (SDK against the emulator on port 0):
 * a handler that stops heartbeating is aborted as `Stalled` and retried; a lock lost under a
 * running handler (the emulator's clock expires it) aborts it as `LockLost`, unsettled.
 */
import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import { z } from "zod";
import { ManualClock, type Emulator } from "../../../src/emulator/index.js";
import { defineHandlers, type HandlerMap } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { abortCode } from "../../../src/worker/jobs/abort.js";
import type { DeliveryEvent } from "../../../src/worker/observer.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";
import {
  entity,
  eventually,
  fastClientOptions,
  Recorder,
  startTestEmulator,
  testClient,
  testConfig,
  testLogger,
  uniqueName,
} from "../worker/helpers.js";

function jobsTopology(name: string) {
  return {
    jobs: defineTopic({
      name,
      messages: { Job: z.object({ id: z.string() }) },
      subscriptions: {
        work: { lockDurationMs: 5_000, policy: { maxAttempts: 3, concurrency: 1, stallTimeoutMs: 300 } },
      },
    }),
  } as const;
}
type Jobs = ReturnType<typeof jobsTopology>;

class JobRecorder extends Recorder {
  readonly aborted: (DeliveryEvent & { code: string })[] = [];
  jobAborted(e: DeliveryEvent & { jobId: string; code: string }): void {
    this.aborted.push(e);
  }
}

describe("jobs: heartbeats and lock loss (worker in process)", function () {
  this.timeout(30_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  let worker: Worker | undefined;
  let topology: Jobs;

  async function setUp(clock?: ManualClock): Promise<void> {
    topology = jobsTopology(uniqueName("jobs"));
    emulator = await startTestEmulator(topology, clock ? { clock } : {});
    client = testClient(emulator);
  }

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await client?.close();
    await emulator?.close();
  });

  async function run(
    handlers: HandlerMap<Jobs>,
    recorder: Recorder,
    env: Record<string, string>,
  ): Promise<void> {
    worker = await startWorker({
      config: testConfig(emulator, env),
      registry: defineHandlers(topology, handlers),
      logger: testLogger(),
      observers: [recorder],
      clientOptions: fastClientOptions,
    });
  }

  async function send(id: string): Promise<void> {
    const sender = client.createSender(topology.jobs.name);
    await sender.sendMessages({ messageId: id, subject: "Job", body: Buffer.from(JSON.stringify({ id })) });
    await sender.close();
  }

  it("aborts a handler that stops heartbeating as Stalled, abandons it, and retries it", async () => {
    await setUp();
    const recorder = new JobRecorder();
    const reasons: unknown[] = [];
    await run(
      {
        jobs: {
          work: {
            Job: async (_payload, ctx) => {
              if (ctx.attempt > 1) return;
              ctx.heartbeat({ step: "started" });
              // Hangs (a stuck call that only honours the signal).
              await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
              reasons.push(ctx.signal.reason);
            },
          },
        },
      },
      recorder,
      { SBW_LEDGER: "memory" },
    );
    await send(uniqueName("stall"));
    await recorder.until(() => recorder.count("complete") === 1);
    assert.deepEqual(reasons.map(abortCode), ["Stalled"]);
    assert.deepEqual(
      recorder.aborted.map((e) => [e.code, e.attempt]),
      [["Stalled", 1]],
    );
    assert.deepEqual(
      recorder.settledEvents.map((e) => [e.settlement.kind, e.attempt]),
      [
        ["abandon", 1],
        ["complete", 2],
      ],
    );
  });

  it("aborts the handler as LockLost when its lock expires, and does not settle it", async function () {
    // Lock loss is noticed at the next renewal, on real timers; a loaded CI machine needs time.
    this.timeout(90_000);
    const clock = new ManualClock();
    await setUp(clock);
    const recorder = new JobRecorder();
    const reasons: unknown[] = [];
    await run(
      {
        jobs: {
          work: {
            Job: async (_payload, ctx) => {
              if (ctx.attempt > 1) return;
              while (!ctx.signal.aborted) {
                ctx.heartbeat();
                await new Promise((r) => setTimeout(r, 20));
              }
              reasons.push(ctx.signal.reason);
            },
          },
        },
      },
      recorder,
      { SBW_LEDGER: "off" },
    );
    await send(uniqueName("lost"));
    await recorder.until(() => recorder.started.length === 1);
    clock.advance(6_000); // the broker's lock runs out under the running handler
    // The redelivery may complete before the first handler learns of the lost lock (at its next
    // renewal), and an aborted handler is left behind rather than awaited, so its reason can land
    // after the last worker event: poll for both instead of waiting on events.
    await eventually(() => recorder.count("complete") === 1 && reasons.length === 1);
    assert.deepEqual(reasons.map(abortCode), ["LockLost"]);
    assert.deepEqual(
      recorder.aborted.map((e) => [e.code, e.attempt]),
      [["LockLost", 1]],
    );
    assert.deepEqual(
      recorder.settledEvents.map((e) => [e.settlement.kind, e.attempt]),
      [["complete", 2]],
      "the first delivery is never settled",
    );
    await eventually(() => entity(emulator, topology.jobs.name, "work").locked === 0);
  });
});
