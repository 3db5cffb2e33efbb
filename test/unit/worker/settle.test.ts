/**
 * settle() with a stub receiver: the operation timeout it applies on behalf of session receivers
 * (SDK 7.9.5 waits a fixed 60 s for a session message's disposition).
 */
import assert from "node:assert/strict";
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from "@azure/service-bus";
import { pino } from "pino";
import { isSettleTimeoutError } from "../../../src/worker/errors.js";
import { combineObservers } from "../../../src/worker/observer.js";
import { newDelivery, settle, type SettleDeps } from "../../../src/worker/settle.js";

/** A receiver whose completeMessage answers only when the test says so. */
function stalledReceiver() {
  const calls: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const receiver = {
    completeMessage: () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject })),
  } as unknown as ServiceBusReceiver;
  return { receiver, calls };
}

function setUp(settleTimeoutMs: number | undefined) {
  const { receiver, calls } = stalledReceiver();
  const failed: unknown[] = [];
  const settled: string[] = [];
  const deps: SettleDeps = {
    receiver,
    log: pino({ level: "silent" }),
    observer: combineObservers(
      [
        {
          settleFailed: (e) => void failed.push(e.error),
          settled: (e) => void settled.push(e.settlement.kind),
        },
      ],
      () => {},
    ),
    ...(settleTimeoutMs === undefined ? {} : { settleTimeoutMs }),
  };
  const delivery = newDelivery({ messageId: "m1" } as ServiceBusReceivedMessage, {
    topic: "t",
    subscription: "s",
    messageId: "m1",
    sessionId: "k",
    subject: "Job",
    attempt: 1,
    deliveryCount: 0,
    enqueuedTimeUtc: undefined,
  });
  return { deps, delivery, calls, failed, settled };
}

describe("settle: a settlement the broker does not answer", () => {
  it("is given up after settleTimeoutMs as SettleTimeout, and its late failure goes nowhere", async () => {
    const { deps, delivery, calls, failed, settled } = setUp(20);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await settle(deps, delivery, { kind: "complete" });
      assert.equal(delivery.settled, true);
      assert.deepEqual(settled, []);
      assert.equal(failed.length, 1);
      assert.ok(isSettleTimeoutError(failed[0]), String(failed[0]));

      calls[0]!.reject(new Error("the link is gone")); // the SDK's own answer, long after
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("waits for the SDK's own answer when no timeout is set", async () => {
    const { deps, delivery, calls, failed, settled } = setUp(undefined);
    const done = settle(deps, delivery, { kind: "complete" });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual([settled, failed], [[], []], "still waiting");
    calls[0]!.resolve();
    await done;
    assert.deepEqual(settled, ["complete"]);
  });

  it("reports an answer within the timeout as settled", async () => {
    const { deps, delivery, calls, settled, failed } = setUp(60_000);
    const done = settle(deps, delivery, { kind: "complete" });
    calls[0]!.resolve();
    await done;
    assert.deepEqual([settled, failed], [["complete"], []]);
  });
});
