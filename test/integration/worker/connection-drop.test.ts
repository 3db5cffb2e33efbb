/**
 * The connection to Service Bus drops under a running worker (a gateway restart, a network blip):
 * the worker reaches the broker through a proxy the test takes down and brings back. The SDK
 * reconnects on its own; the worker must keep consuming, and a message whose handler was running
 * when the connection went must not be lost nor, with the ledger, run a second time.
 */
import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import { z } from "zod";
import type { Emulator, EntitySnapshot } from "../../../src/emulator/index.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import type { Worker } from "../../../src/worker/worker.js";
import { startTcpProxy, type TcpProxy, viaPort } from "../../helpers/tcpProxy.js";
import {
  entity,
  eventually,
  fastClientOptions,
  Recorder,
  startTestEmulator,
  startTestWorker,
  testClient,
  uniqueName,
} from "./helpers.js";

function jobsTopology(name: string) {
  return {
    jobs: defineTopic({
      name,
      messages: { Job: z.object({ id: z.string() }) },
      // A short lock: a delivery whose settlement is lost with the connection comes back soon.
      sessionId: (m) => m.payload.id.split("/")[0] ?? m.payload.id,
      subscriptions: {
        work: { lockDurationMs: 5_000, policy: { concurrency: 4 } },
        ordered: { requiresSession: true, lockDurationMs: 5_000, policy: { maxConcurrentSessions: 2 } },
      },
    }),
  } as const;
}

const isEmpty = (e: EntitySnapshot): boolean => e.active + e.locked + e.scheduled + e.deferred === 0;

describe("worker: the connection to Service Bus drops and comes back", function () {
  this.timeout(30_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  let proxy: TcpProxy;
  let worker: Worker | undefined;
  let topic: string;
  let topology: ReturnType<typeof jobsTopology>;

  beforeEach(async () => {
    topic = uniqueName("drop");
    topology = jobsTopology(topic);
    emulator = await startTestEmulator(topology);
    client = testClient(emulator);
    proxy = await startTcpProxy(emulator.port);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await proxy.close();
    await client.close();
    await emulator.close();
  });

  async function send(ids: string[]): Promise<void> {
    const sender = client.createSender(topic);
    await sender.sendMessages(
      ids.map((id) => ({
        messageId: id,
        subject: "Job",
        sessionId: id.split("/")[0] ?? id,
        body: Buffer.from(JSON.stringify({ id })),
      })),
    );
    await sender.close();
  }

  it("both consumers keep consuming after the drop; the messages in flight run exactly once, sessions in order", async () => {
    const runs = { work: [] as string[], ordered: [] as string[] };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handler =
      (into: string[]) =>
      async (job: { id: string }): Promise<void> => {
        into.push(job.id);
        if (job.id === "a/2") await gate;
      };
    const recorder = new Recorder();
    worker = await startTestWorker(
      emulator,
      topology,
      { jobs: { work: { Job: handler(runs.work) }, ordered: { Job: handler(runs.ordered) } } },
      {
        recorder,
        env: {
          SERVICEBUS_CONNECTION_STRING: viaPort(emulator.connectionString, proxy.port),
          SBW_SESSION_IDLE_TIMEOUT_MS: "50",
          // Bounds a session message's settlement, which the SDK leaves at its fixed 60 s.
          SBW_SERVICEBUS_TIMEOUT_MS: "1500",
        },
        // A settlement sent into the dead connection fails after its retries, each this long.
        clientOptions: { retryOptions: { ...fastClientOptions.retryOptions, timeoutInMs: 1_500 } },
      },
    );
    await send(["a/1", "b/1"]);
    await recorder.until(() => recorder.count("complete") === 4);

    await send(["a/2"]); // held in both handlers until the connection is gone
    await recorder.until(() => recorder.started.filter((e) => e.messageId === "a/2").length === 2);
    await proxy.down();
    release();
    await proxy.up();

    await send(["a/3", "b/2"]);
    // Each in-flight delivery is settled after the reconnect, or its lock (the session's) lapses
    // and the redelivery is completed without running: the ledger holds its outcome.
    for (const sub of ["work", "ordered"] as const)
      await eventually(() => runs[sub].length >= 5 && isEmpty(entity(emulator, topic, sub)), 50);

    assert.deepEqual([...runs.work].sort(), ["a/1", "a/2", "a/3", "b/1", "b/2"], "each job ran once");
    const inSession = (key: string): string[] => runs.ordered.filter((id) => id.startsWith(`${key}/`));
    assert.deepEqual(inSession("a"), ["a/1", "a/2", "a/3"], "session a: once each, in order");
    assert.deepEqual(inSession("b"), ["b/1", "b/2"], "session b: once each, in order");
    for (const sub of ["work", "ordered"]) assert.equal(entity(emulator, topic, sub).deadLettered, 0);
    assert.equal(worker.health().live, true);
    // No slot may stay on a settlement sent into the dead connection: the SDK would hold a session
    // message's for its fixed 60 s, past this test's timeout (the worker gives up after its own
    // operation timeout, SBW_SERVICEBUS_TIMEOUT_MS).
    const w = worker;
    await eventually(() => w.health().loops.every((l) => l.inFlight === 0), 50);
    await worker.close();
  });
});
