import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import { z } from "zod";
import type { Emulator } from "../../../src/emulator/index.js";
import { defineHandlers, type HandlerMap } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { PermanentError, TransientError } from "../../../src/worker/errors.js";
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
} from "./helpers.js";

function jobsTopology(name: string) {
  return {
    jobs: defineTopic({
      name,
      duplicateDetection: { windowMs: 60_000 },
      messages: { Job: z.object({ id: z.string(), fail: z.int().optional() }), Other: z.object({}) },
      subscriptions: {
        work: { policy: { maxAttempts: 3, concurrency: 4 } },
        // A second subscription on the same topic: retry copies must never reach it.
        mirror: { subjects: ["Job"] },
      },
    }),
  } as const;
}
type Jobs = ReturnType<typeof jobsTopology>;

describe("worker: plain subscriptions", function () {
  this.timeout(30_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  let worker: Worker | undefined;
  let topic: string;
  let topology: Jobs;

  beforeEach(async () => {
    topic = uniqueName("jobs");
    topology = jobsTopology(topic);
    emulator = await startTestEmulator(topology);
    client = testClient(emulator);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await client.close();
    await emulator.close();
  });

  async function run(
    handlers: HandlerMap<Jobs>,
    recorder: Recorder,
    env: Record<string, string> = {},
  ): Promise<Worker> {
    worker = await startWorker({
      config: testConfig(emulator, env),
      registry: defineHandlers(topology, handlers),
      logger: testLogger(),
      observers: [recorder],
      clientOptions: fastClientOptions,
    });
    return worker;
  }

  async function send(messages: { subject: string; body: unknown; messageId?: string }[]): Promise<void> {
    const sender = client.createSender(topic);
    try {
      await sender.sendMessages(messages.map((m) => ({ messageId: m.messageId ?? uniqueName("m"), ...m })));
    } finally {
      await sender.close();
    }
  }

  it("retries a transient failure with backoff and then completes it, on its own subscription only", async () => {
    const recorder = new Recorder();
    const attempts: number[] = [];
    let mirrored = 0;
    await run(
      {
        jobs: {
          work: {
            Job: async (_payload, ctx) => {
              attempts.push(ctx.attempt);
              if (ctx.attempt < 3) throw new TransientError(`not yet (${ctx.attempt})`);
              await Promise.resolve();
            },
          },
          mirror: {
            Job: async () => {
              mirrored += 1;
              await Promise.resolve();
            },
          },
        },
      },
      recorder,
      { SBW_MAX_ATTEMPTS: "5" },
    );
    await send([{ subject: "Job", body: { id: "j1" }, messageId: "j1" }]);
    // Settlement events can arrive out of attempt order: the copy may be completed before the
    // original's own `complete` (after scheduling the copy) returns.
    await recorder.until(() => recorder.settledEvents.filter((e) => e.subscription === "work").length === 3);
    await recorder.until(() => mirrored === 1);

    assert.deepEqual(attempts, [1, 2, 3]);
    const work = recorder.settledEvents
      .filter((e) => e.subscription === "work")
      .sort((a, b) => a.attempt - b.attempt);
    assert.deepEqual(
      work.map((e) => [e.settlement.kind, e.attempt]),
      [
        ["retry", 1],
        ["retry", 2],
        ["complete", 3],
      ],
    );
    // Full jitter under a ceiling that doubles: [0, 10) then [0, 20) with SBW_RETRY_BASE_DELAY_MS=10.
    const delays = work.flatMap((e) => (e.settlement.kind === "retry" ? [e.settlement.delayMs] : []));
    assert.ok(
      delays[0]! >= 0 && delays[0]! < 10 && delays[1]! >= 0 && delays[1]! < 20,
      `delays ${delays.join(",")}`,
    );
    // The retry copies kept the root id and were scheduled under deterministic ids.
    assert.deepEqual(
      work.map((e) => e.messageId),
      ["j1", "j1~work~retry1", "j1~work~retry2"],
    );
    await eventually(() => entity(emulator, topic, "work").locked === 0);
    const snapshot = entity(emulator, topic, "work");
    assert.deepEqual([snapshot.active, snapshot.scheduled, snapshot.deadLettered], [0, 0, 0]);
    assert.equal(mirrored, 1);
  });

  it("dead-letters permanent, schema and no-handler failures at once, with reasons", async () => {
    const recorder = new Recorder();
    const calls: string[] = [];
    await run(
      {
        jobs: {
          work: {
            Job: async (payload) => {
              calls.push(payload.id);
              if (payload.fail) throw new PermanentError("refused by policy", { code: "Refused" });
              await Promise.resolve();
            },
          },
        },
      },
      recorder,
      { SBW_SUBSCRIPTIONS: "jobs/work" },
    );
    await send([
      { subject: "Job", body: { id: "p", fail: 1 }, messageId: "permanent" },
      { subject: "Job", body: { id: 42 }, messageId: "schema" },
      { subject: "Job", body: Buffer.from("{not json"), messageId: "notjson" },
      { subject: "Other", body: {}, messageId: "nohandler" },
      { subject: "Nope", body: {}, messageId: "unknown-subject" },
    ]);
    await recorder.until(() => recorder.count("deadLetter") === 5);

    const dlq = client.createReceiver(topic, "work", {
      subQueueType: "deadLetter",
      receiveMode: "receiveAndDelete",
    });
    const dead = await dlq.receiveMessages(5, { maxWaitTimeInMs: 5_000 });
    await dlq.close();
    const byId = new Map(dead.map((m) => [String(m.messageId), m]));
    const reason = (id: string): unknown => byId.get(id)?.deadLetterReason;
    assert.equal(reason("permanent"), "Refused");
    assert.equal(reason("schema"), "SchemaValidationFailed");
    assert.equal(reason("notjson"), "SchemaValidationFailed");
    assert.equal(reason("nohandler"), "NoHandler");
    assert.equal(reason("unknown-subject"), "NoHandler");
    const description = JSON.parse(String(byId.get("permanent")?.deadLetterErrorDescription)) as unknown;
    assert.deepEqual(description, {
      handler: "jobs/work/Job",
      error: { class: "PermanentError", code: "Refused", message: "refused by policy" },
      attempt: 1,
    });
    assert.match(
      String(byId.get("schema")?.deadLetterErrorDescription),
      /"class":"SchemaValidationFailed".*id/,
    );
    assert.deepEqual(calls, ["p"]);
    assert.equal(recorder.count("retry"), 0);
  });

  it("dead-letters MaxAttemptsExceeded after maxAttempts", async () => {
    const recorder = new Recorder();
    let calls = 0;
    await run(
      {
        jobs: {
          work: {
            Job: async () => {
              calls += 1;
              await Promise.reject(new Error("always broken"));
            },
          },
        },
      },
      recorder,
      { SBW_SUBSCRIPTIONS: "jobs/work" },
    );
    await send([{ subject: "Job", body: { id: "x" }, messageId: "doomed" }]);
    await recorder.until(() => recorder.count("deadLetter") === 1);
    assert.equal(calls, 3);
    const dlq = client.createReceiver(topic, "work", {
      subQueueType: "deadLetter",
      receiveMode: "receiveAndDelete",
    });
    // Returns as soon as the dead letter arrives; the long wait only matters on a loaded machine.
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
    await dlq.close();
    assert.equal(dead?.deadLetterReason, "MaxAttemptsExceeded");
    const description = JSON.parse(String(dead?.deadLetterErrorDescription)) as {
      attempt: number;
      error: { message: string };
    };
    assert.equal(description.attempt, 3);
    assert.equal(description.error.message, "always broken");
    assert.equal(dead?.applicationProperties?.["sbw-attempt"], 3);
  });
});
