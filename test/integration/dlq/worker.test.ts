/**
 * End to end with the real worker: a broken handler dead-letters messages, the handler is fixed,
 * `dlq replay` sends them back to their subscription only, and the worker processes them.
 */
import assert from "node:assert/strict";
import { defineHandlers } from "../../../src/handlers/registry.js";
import { PermanentError } from "../../../src/worker/errors.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";
import { fastClientOptions, Recorder, testConfig, testLogger } from "../worker/helpers.js";
import { DlqFixture, peekDlq, topology } from "./helpers.js";

describe("dlq replay with the worker", function () {
  this.timeout(30_000);
  let f: DlqFixture;
  let worker: Worker | undefined;
  beforeEach(async () => (f = await DlqFixture.start()));
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await f.close();
  });

  it("processes replayed dead letters once the handler is fixed; siblings see nothing new", async () => {
    let fixed = false;
    const billed: unknown[] = [];
    const seen = { shipping: 0, audit: 0 };
    const recorder = new Recorder();
    worker = await startWorker({
      config: testConfig(f.emulator, { SBW_MAX_ATTEMPTS: "1" }),
      registry: defineHandlers(topology, {
        shop: {
          billing: {
            OrderPlaced: async (payload) => {
              if (!fixed) throw new PermanentError("tax code XX is unknown", { code: "InvalidTaxCode" });
              billed.push(payload);
              await Promise.resolve();
            },
          },
          shipping: { OrderPlaced: () => Promise.resolve(void (seen.shipping += 1)) },
          audit: { OrderPlaced: () => Promise.resolve(void (seen.audit += 1)) },
        },
      }),
      logger: testLogger(),
      observers: [recorder],
      clientOptions: fastClientOptions,
    });
    const sender = f.client().createSender("shop");
    await sender.sendMessages(
      [1, 2, 3].map((n) => ({ body: { order: n }, subject: "OrderPlaced", messageId: `order-${n}` })),
    );
    await sender.close();
    const billing = (kind: string) =>
      recorder.settledEvents.filter((e) => e.subscription === "billing" && e.settlement.kind === kind).length;
    await recorder.until(() => billing("deadLetter") === 3 && seen.shipping === 3 && seen.audit === 3);

    const stats = await f.dlq("stats", "shop/billing", "--json");
    assert.deepEqual((JSON.parse(stats.stdout) as { byReason: unknown }).byReason, [
      { key: "InvalidTaxCode", count: 3 },
    ]);

    fixed = true;
    const run = await f.dlq("replay", "shop/billing", "--yes", "--reason", "InvalidTaxCode");
    assert.equal(run.code, 0, run.stdout + run.stderr);
    await recorder.until(() => billing("complete") === 3);

    assert.deepEqual(billed.map((p) => (p as { order: number }).order).sort(), [1, 2, 3]);
    assert.deepEqual(await peekDlq(f, "shop/billing"), []);
    assert.deepEqual(seen, { shipping: 3, audit: 3 }, "the replay reached billing only");
  });
});
