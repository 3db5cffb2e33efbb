/**
 * A retry copy the broker refuses: a message just under its topic's size limit, whose retry copy
 * (the same body plus the worker's three retry properties) is over it. The worker falls back to
 * abandoning, so the broker redelivers at once; the attempts still count (the delivery count
 * does), and at `maxAttempts` the message is dead-lettered `MaxAttemptsExceeded`, body intact.
 * Nothing is lost, and nothing loops forever.
 */
import assert from "node:assert/strict";
import type { ServiceBusClient, ServiceBusMessage } from "@azure/service-bus";
import { z } from "zod";
import type { Emulator, Topology } from "../../../src/emulator/index.js";
import { parseEmulatorConfig, startEmulator } from "../../../src/emulator/index.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { toEmulatorConfig } from "../../../src/topics/emulatorConfig.js";
import { TransientError } from "../../../src/worker/errors.js";
import type { Worker } from "../../../src/worker/worker.js";
import { entity, Recorder, startTestWorker, testClient, uniqueName } from "./helpers.js";

const LIMIT = 16 * 1024;
/** The same length for every probe and for the real message, so only the pad changes the size. */
const ID_LENGTH = 40;

function bigTopology(name: string) {
  return {
    big: defineTopic({
      name,
      messages: { Job: z.object({ pad: z.string() }) },
      subscriptions: { work: { policy: { maxAttempts: 3, concurrency: 1 } } },
    }),
  } as const;
}

function job(pad: number, n: number): ServiceBusMessage {
  return {
    messageId: `m${n}`.padEnd(ID_LENGTH, "-"),
    subject: "Job",
    body: Buffer.from(JSON.stringify({ pad: "x".repeat(pad) })),
  };
}

describe("worker: a retry copy the broker refuses", function () {
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

  it("abandons instead, counts the attempts, and dead-letters at maxAttempts with the body intact", async () => {
    const name = uniqueName("big");
    const topology = bigTopology(name);
    const parsed = parseEmulatorConfig(toEmulatorConfig(topology));
    const small: Topology = {
      ...parsed,
      topics: parsed.topics.map((t) => ({ ...t, maxMessageSizeBytes: LIMIT })),
    };
    emulator = await startEmulator({ port: 0, topology: small });
    client = testClient(emulator);

    // The largest pad the topic accepts for this message shape (sent, then received and deleted).
    const sender = client.createSender(name);
    let fits = 0;
    let over = LIMIT;
    for (let n = 0; over - fits > 1; n += 1) {
      const mid = Math.floor((fits + over) / 2);
      const accepted = await sender.sendMessages(job(mid, n)).then(
        () => true,
        () => false,
      );
      if (accepted) fits = mid;
      else over = mid;
    }
    const purge = client.createReceiver(name, "work", { receiveMode: "receiveAndDelete" });
    while (entity(emulator, name, "work").active > 0)
      await purge.receiveMessages(50, { maxWaitTimeInMs: 200 });
    await purge.close();

    // 40 bytes under the limit: the message fits, its retry copy (three properties more) does not.
    const pad = fits - 40;
    await sender.sendMessages(job(pad, 999));
    await sender.close();

    const attempts: number[] = [];
    const recorder = new Recorder();
    worker = await startTestWorker(
      emulator,
      topology,
      {
        big: {
          work: {
            Job: (_payload, ctx) => {
              attempts.push(ctx.attempt);
              return Promise.reject(new TransientError("downstream unavailable"));
            },
          },
        },
      },
      { recorder },
    );
    await recorder.until(() => recorder.count("deadLetter") === 1);

    assert.deepEqual(attempts, [1, 2, 3]);
    assert.deepEqual(
      recorder.settledEvents.map((e) => e.settlement.kind),
      ["abandon", "abandon", "deadLetter"],
    );
    const dlq = client.createReceiver(name, "work", {
      subQueueType: "deadLetter",
      skipParsingBodyAsJson: true,
    });
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2_000 });
    await dlq.close();
    assert.ok(dead);
    assert.equal(dead.deadLetterReason, "MaxAttemptsExceeded");
    assert.equal((JSON.parse((dead.body as Buffer).toString()) as { pad: string }).pad.length, pad);
    const after = entity(emulator, name, "work");
    assert.equal(after.active + after.locked + after.scheduled, 0);
    assert.equal(emulator.snapshot().topics.find((t) => t.name === name)?.scheduled, 0);
  });
});
