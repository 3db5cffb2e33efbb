import assert from "node:assert/strict";

import type { ServiceBusClient } from "@azure/service-bus";

import { configJson, EmulatorFixture, receiveExactly } from "../../helpers/emulator.js";

const CLIENTS = 200;

describe("emulator: no artificial connection or entity caps (official SDK)", () => {
  let fx: EmulatorFixture;

  before(async () => {
    fx = await EmulatorFixture.start({
      config: configJson({
        queues: [
          { Name: "many" },
          // Far beyond the official emulator's 50 entities.
          ...Array.from({ length: 120 }, (_, i) => ({ Name: `q-${i}` })),
        ],
        topics: [
          {
            Name: "wide",
            Subscriptions: Array.from({ length: 80 }, (_, i) => ({ Name: `s-${i}` })),
          },
        ],
      }),
    });
  });

  after(async () => {
    await fx.close();
  });

  it(`serves ${CLIENTS} concurrent SDK connections, each sending one message, all received`, async function () {
    this.timeout(60_000);
    // The 200 SDK clients share this process's event loop with the emulator: give them a roomy
    // operation timeout (no retries) so that the test measures capacity, not scheduling.
    const retryOptions = { maxRetries: 0, timeoutInMs: 30_000 };
    const clients: ServiceBusClient[] = Array.from({ length: CLIENTS }, () => fx.client({ retryOptions }));
    await Promise.all(
      clients.map(async (client, i) => {
        const sender = client.createSender("many");
        await sender.sendMessages({ body: i, messageId: `c-${i}` });
      }),
    );
    assert.ok(
      fx.emulator.snapshot().connections >= CLIENTS,
      `${fx.emulator.snapshot().connections} connections open`,
    );
    assert.equal(fx.entity("many").active, CLIENTS);

    const reader = fx.client();
    const receiver = reader.createReceiver("many", { receiveMode: "receiveAndDelete" });
    const received = await receiveExactly(receiver, CLIENTS, 15_000);
    assert.deepEqual(
      received.map((m) => m.body as number).sort((a, b) => a - b),
      Array.from({ length: CLIENTS }, (_, i) => i),
    );
    await Promise.all([...clients, reader].map((c) => fx.closeClient(c)));
  });

  it("serves more than 50 entities and 80 subscriptions on one topic", async () => {
    const client = fx.client();
    const sender = client.createSender("q-119");
    await sender.sendMessages({ body: "last queue" });
    assert.equal(fx.entity("q-119").active, 1);
    await client.createSender("wide").sendMessages({ body: "to 80" });
    const subs = fx.emulator.snapshot().entities.filter((e) => e.name.startsWith("wide/"));
    assert.equal(subs.length, 80);
    assert.ok(subs.every((s) => s.active === 1));
    await fx.closeClient(client);
  });
});
