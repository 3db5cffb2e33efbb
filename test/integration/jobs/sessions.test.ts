/**
 * Checkpoints of a session subscription live in session state: a handler that checkpoints and
 * then stalls is aborted, the message is abandoned, and its redelivery in the same session
 * resumes from the checkpoint; the checkpoint is gone once the job succeeded.
 */
import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import { z } from "zod";
import type { Emulator } from "../../../src/emulator/index.js";
import { defineHandlers } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { abortCode } from "../../../src/worker/jobs/abort.js";
import { decodeSessionState } from "../../../src/worker/jobs/sessionCheckpoint.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";
import {
  fastClientOptions,
  Recorder,
  startTestEmulator,
  testClient,
  testConfig,
  testLogger,
  uniqueName,
} from "../worker/helpers.js";

function sessionTopology(name: string) {
  return {
    jobs: defineTopic({
      name,
      messages: { Job: z.object({ id: z.string() }) },
      sessionId: (m) => m.payload.id,
      subscriptions: {
        work: {
          requiresSession: true,
          sessionState: z.object({ seen: z.int() }),
          policy: { maxAttempts: 3, maxConcurrentSessions: 1, stallTimeoutMs: 300 },
        },
      },
    }),
  } as const;
}

describe("jobs: checkpoints of session subscriptions (worker in process)", function () {
  this.timeout(30_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  let worker: Worker | undefined;

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await client?.close();
    await emulator?.close();
  });

  it("resumes a stalled session job from the checkpoint kept in session state", async () => {
    const topology = sessionTopology(uniqueName("sjobs"));
    emulator = await startTestEmulator(topology);
    client = testClient(emulator);
    const recorder = new Recorder();
    const seen: { attempt: number; resumeFrom: unknown; state: unknown; reason?: unknown }[] = [];
    worker = await startWorker({
      config: testConfig(emulator, { SBW_LEDGER: "memory" }),
      registry: defineHandlers(topology, {
        jobs: {
          work: {
            Job: async (_payload, ctx) => {
              const state = await ctx.session.getState();
              if (ctx.attempt === 1) {
                await ctx.session.setState({ seen: 1 });
                await ctx.checkpoint({ step: 1 });
                await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
                seen.push({
                  attempt: ctx.attempt,
                  resumeFrom: ctx.resumeFrom,
                  state,
                  reason: ctx.signal.reason,
                });
                return;
              }
              seen.push({ attempt: ctx.attempt, resumeFrom: ctx.resumeFrom, state });
              await ctx.session.setState({ seen: 2 });
            },
          },
        },
      }),
      logger: testLogger(),
      observers: [recorder],
      clientOptions: fastClientOptions,
    });
    const sender = client.createSender(topology.jobs.name);
    await sender.sendMessages({
      sessionId: "s1",
      subject: "Job",
      body: Buffer.from(JSON.stringify({ id: "s1" })),
    });
    await sender.close();
    await recorder.until(() => recorder.count("complete") === 1);

    assert.equal(seen.length, 2);
    assert.equal(abortCode(seen[0]!.reason), "Stalled");
    assert.deepEqual(seen[1], { attempt: 2, resumeFrom: { step: 1 }, state: { seen: 1 } });
    await worker.close();
    worker = undefined;
    const session = await client.acceptSession(topology.jobs.name, "work", "s1");
    const stored = decodeSessionState(await session.getSessionState());
    await session.close();
    assert.deepEqual(stored, { seen: 2 }, "the checkpoint is gone");
  });
});
