import assert from "node:assert/strict";
import type { ServiceBusClient, ServiceBusMessage } from "@azure/service-bus";
import { z } from "zod";
import type { Emulator } from "../../../src/emulator/index.js";
import type { HandlerMap } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { abortCode } from "../../../src/worker/jobs/abort.js";
import { TransientError } from "../../../src/worker/errors.js";
import type { Worker } from "../../../src/worker/worker.js";
import {
  entity,
  eventually,
  Recorder,
  startTestEmulator,
  startTestWorker,
  testClient,
  uniqueName,
} from "./helpers.js";

function streamTopology(name: string) {
  return {
    stream: defineTopic({
      name,
      messages: { Step: z.object({ key: z.string(), seq: z.int() }) },
      sessionId: (m) => m.payload.key,
      subscriptions: {
        ordered: {
          requiresSession: true,
          sessionState: z.object({ last: z.int() }),
          policy: { maxConcurrentSessions: 8, maxAttempts: 10 },
        },
      },
    }),
  } as const;
}
type Stream = ReturnType<typeof streamTopology>;
type StepHandler = NonNullable<NonNullable<NonNullable<HandlerMap<Stream>["stream"]>["ordered"]>["Step"]>;

describe("worker: session subscriptions", function () {
  this.timeout(120_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  const workers: Worker[] = [];
  let topic: string;
  let topology: Stream;

  beforeEach(async () => {
    topic = uniqueName("stream");
    topology = streamTopology(topic);
    emulator = await startTestEmulator(topology);
    client = testClient(emulator);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await client.close();
    await emulator.close();
  });

  async function run(
    handlers: HandlerMap<Stream>,
    recorder: Recorder,
    env: Record<string, string> = {},
  ): Promise<Worker> {
    const worker = await startTestWorker(emulator, topology, handlers, {
      recorder,
      env: { SBW_SESSION_IDLE_TIMEOUT_MS: "50", ...env },
      random: () => 0.99, // a backoff's jitter at its top: the whole configured delay
    });
    workers.push(worker);
    return worker;
  }

  async function send(steps: { key: string; seq: number }[]): Promise<void> {
    const sender = client.createSender(topic);
    try {
      let batch = await sender.createMessageBatch();
      for (const step of steps) {
        const message: ServiceBusMessage = {
          body: step,
          subject: "Step",
          sessionId: step.key,
          messageId: `${step.key}:${step.seq}`,
        };
        if (!batch.tryAddMessage(message)) {
          await sender.sendMessages(batch);
          batch = await sender.createMessageBatch();
          assert.ok(batch.tryAddMessage(message));
        }
      }
      if (batch.count > 0) await sender.sendMessages(batch);
    } finally {
      await sender.close();
    }
  }

  it("keeps per-session order under concurrency: 1,000 sessions x 10 messages, 8 sessions at a time", async () => {
    const recorder = new Recorder();
    const seen = new Map<string, number[]>();
    let handled = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const duplicates: string[] = [];
    const steps = Array.from({ length: 1_000 }, (_, s) =>
      Array.from({ length: 10 }, (_, seq) => ({ key: `s${s}`, seq })),
    ).flat();
    await send(steps);
    await run(
      {
        stream: {
          ordered: {
            Step: async (payload, ctx) => {
              concurrent += 1;
              maxConcurrent = Math.max(maxConcurrent, concurrent);
              const list = seen.get(payload.key) ?? [];
              if (list.includes(payload.seq)) {
                duplicates.push(
                  `${payload.key}:${payload.seq} dc=${ctx.message.deliveryCount} attempt=${ctx.attempt}`,
                );
              }
              list.push(payload.seq);
              seen.set(payload.key, list);
              assert.equal(ctx.session.id, payload.key);
              await Promise.resolve();
              handled += 1;
              concurrent -= 1;
            },
          },
        },
      },
      recorder,
    );
    await recorder.until(() => recorder.count("complete") === 10_000);
    assert.deepEqual(duplicates, []);
    assert.equal(handled, 10_000);
    assert.equal(seen.size, 1_000);
    for (const [key, list] of seen) assert.deepEqual(list, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `session ${key}`);
    assert.ok(maxConcurrent <= 8, `at most 8 sessions in handlers at once, saw ${maxConcurrent}`);
    await eventually(() => entity(emulator, topic, "ordered").locked === 0);
    assert.equal(entity(emulator, topic, "ordered").active, 0);
  });

  it("holds back a failing message's own session only, while other sessions flow", async () => {
    const recorder = new Recorder();
    const log: string[] = [];
    let bDone = 0;
    let firstFailure!: () => void;
    const failedOnce = new Promise<void>((resolve) => (firstFailure = resolve));
    await run(
      {
        stream: {
          ordered: {
            Step: async (payload, ctx) => {
              await Promise.resolve();
              if (payload.key === "A" && payload.seq === 1 && (ctx.attempt < 3 || bDone < 3)) {
                log.push(`A1 fails (attempt ${ctx.attempt})`);
                firstFailure();
                throw new TransientError("downstream not ready");
              }
              log.push(`${payload.key}${payload.seq}`);
              const state = await ctx.session.getState();
              assert.equal(state?.last ?? 0, payload.seq - 1, `${payload.key} out of order`);
              await ctx.session.setState({ last: payload.seq });
              if (payload.key === "B") bDone += 1;
            },
          },
        },
      },
      recorder,
      // Attempts are not the point here: A1 fails for as long as B is not done.
      { SBW_MAX_CONCURRENT_SESSIONS: "2", SBW_MAX_ATTEMPTS: "100000" },
    );
    await send([1, 2, 3].map((seq) => ({ key: "A", seq })));
    await failedOnce;
    await send([1, 2, 3].map((seq) => ({ key: "B", seq })));
    await recorder.until(() => recorder.count("complete") === 6);

    const a1 = log.indexOf("A1");
    assert.ok(a1 > 0, log.join(" | "));
    // A's later messages waited for A1...
    assert.ok(log.indexOf("A2") > a1 && log.indexOf("A3") > log.indexOf("A2"), log.join(" | "));
    // ...B flowed while A1 was failing, and A1 failed at least twice.
    assert.ok(log.indexOf("B3") < a1, log.join(" | "));
    assert.ok(log.filter((l) => l.startsWith("A1 fails")).length >= 2, log.join(" | "));
    // In-place retries kept the session: the same message id was retried, no copies.
    const a1Events = recorder.settledEvents.filter((e) => e.messageId === "A:1");
    assert.ok(a1Events.slice(0, -1).every((e) => e.settlement.kind === "retry"));
    assert.equal(a1Events.at(-1)?.settlement.kind, "complete");
    assert.deepEqual(
      a1Events.map((e) => e.attempt),
      a1Events.map((_, i) => i + 1),
    );
    await eventually(() => entity(emulator, topic, "ordered").locked === 0);
    assert.equal(entity(emulator, topic, "ordered").deadLettered, 0);
  });
  it("releases an emptied session at once, not after the idle timeout, and takes it again when a message arrives", async () => {
    // One slot and an hour of idle timeout: were an empty session held until the timeout, the
    // second session would never be reached within this test's time limit.
    const recorder = new Recorder();
    const later = new Date(Date.now() + 3_600_000);
    await run({ stream: { ordered: { Step: () => Promise.resolve() } } }, recorder, {
      SBW_MAX_CONCURRENT_SESSIONS: "1",
      SBW_SESSION_IDLE_TIMEOUT_MS: "3600000",
    });
    // A also has a message scheduled an hour ahead: waiting for it must not keep A held.
    const sender = client.createSender(topic);
    await sender.scheduleMessages(
      { body: { key: "A", seq: 9 }, subject: "Step", sessionId: "A", messageId: "A:9" },
      later,
    );
    await sender.close();
    await send([
      { key: "A", seq: 0 },
      { key: "B", seq: 0 },
      { key: "B", seq: 1 },
    ]);
    await recorder.until(() => recorder.count("complete") === 3);
    await send([{ key: "A", seq: 1 }]);
    await recorder.until(() => recorder.count("complete") === 4);
    assert.deepEqual(
      recorder.settledEvents.map((e) => e.messageId),
      recorder.sessionsAccepted[0] === "A" ? ["A:0", "B:0", "B:1", "A:1"] : ["B:0", "B:1", "A:0", "A:1"],
    );
    assert.ok(recorder.sessionsAccepted.filter((id) => id === "A").length >= 2, "A was taken again");
    // Scheduled messages wait on the topic, as in Azure, and fan out when due.
    const onTopic = emulator.snapshot().topics.find((t) => t.name.toLowerCase() === topic.toLowerCase());
    assert.equal(onTopic?.scheduled, 1);
  });

  describe("draining (scale-in: worker.close(), the path SIGTERM takes in src/main.ts)", () => {
    /** Another worker that records what it runs, in order, until it has completed `count`. */
    async function takeOver(count: number): Promise<{ seq: number; attempt: number }[]> {
      const runs: { seq: number; attempt: number }[] = [];
      const recorder = new Recorder();
      const Step: StepHandler = (step, ctx) => {
        runs.push({ seq: step.seq, attempt: ctx.attempt });
        return Promise.resolve();
      };
      await run({ stream: { ordered: { Step } } }, recorder);
      await recorder.until(() => recorder.count("complete") === count);
      return runs;
    }

    it("past the drain timeout, aborts the session's handler and abandons its message; the next worker resumes the session in order", async () => {
      await send([1, 2, 3].map((seq) => ({ key: "k", seq })));
      const recorder = new Recorder();
      let abortedWith: string | undefined;
      // Runs until aborted, as a long job that ignores the drain would.
      const Step: StepHandler = (_step, ctx) =>
        new Promise<void>((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            abortedWith = abortCode(ctx.signal.reason);
            reject(ctx.signal.reason as Error);
          });
        });
      const first = await run({ stream: { ordered: { Step } } }, recorder, { SBW_DRAIN_TIMEOUT_MS: "100" });
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
      await send([1, 2].map((seq) => ({ key: "k", seq })));
      const recorder = new Recorder();
      const runs: number[] = [];
      const Step: StepHandler = (step) => {
        runs.push(step.seq);
        return Promise.reject(new TransientError("downstream unavailable"));
      };
      // A backoff far longer than the test: only an interrupted backoff lets close() return in time.
      const first = await run({ stream: { ordered: { Step } } }, recorder, {
        SBW_RETRY_BASE_DELAY_MS: "600000",
        SBW_RETRY_MAX_DELAY_MS: "600000",
        SBW_DRAIN_TIMEOUT_MS: "60000",
      });
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
});
