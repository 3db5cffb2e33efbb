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
import { startTcpProxy, type TcpProxy } from "../../helpers/tcpProxy.js";
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
      subscriptions: { work: { lockDurationMs: 5_000, policy: { concurrency: 4 } } },
    }),
  } as const;
}

const isEmpty = (e: EntitySnapshot): boolean => e.active + e.locked + e.scheduled + e.deferred === 0;

describe("worker: the connection to Service Bus drops and comes back", function () {
  this.timeout(60_000);
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
      ids.map((id) => ({ messageId: id, subject: "Job", body: Buffer.from(JSON.stringify({ id })) })),
    );
    await sender.close();
  }

  it("keeps consuming after the drop, and runs the message in flight at the drop exactly once", async () => {
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const recorder = new Recorder();
    worker = await startTestWorker(
      emulator,
      topology,
      {
        jobs: {
          work: {
            Job: async (job) => {
              runs.push(job.id);
              if (job.id === "in-flight") await gate;
            },
          },
        },
      },
      {
        recorder,
        env: {
          SERVICEBUS_CONNECTION_STRING: emulator.connectionString.replace(
            `:${emulator.port};`,
            `:${proxy.port};`,
          ),
        },
        // A settlement sent into the dead connection fails after its retries, each this long.
        clientOptions: { retryOptions: { ...fastClientOptions.retryOptions, timeoutInMs: 1_500 } },
      },
    );
    await send(["before-1", "before-2"]);
    await recorder.until(() => recorder.count("complete") === 2);

    await send(["in-flight"]);
    await recorder.until(() => recorder.started.some((e) => e.messageId === "in-flight"));
    await proxy.down();
    release(); // the handler finishes while the connection is gone
    await proxy.up();

    await send(["after-1", "after-2"]);
    await eventually(() => runs.includes("after-1") && runs.includes("after-2"), 50);
    // The in-flight delivery is settled after the reconnect, or its lock lapses and the
    // redelivery is completed without running (the ledger holds its outcome).
    await eventually(() => isEmpty(entity(emulator, topic, "work")), 50);
    assert.deepEqual(
      [...runs].sort(),
      ["after-1", "after-2", "before-1", "before-2", "in-flight"],
      "each job ran exactly once",
    );
    assert.equal(entity(emulator, topic, "work").deadLettered, 0);
    assert.equal(worker.health().live, true);
  });
});
