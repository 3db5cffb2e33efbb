import assert from "node:assert/strict";
import { isCloseTimeoutError } from "../../../src/worker/errors.js";
import { Resources } from "../../../src/worker/resources.js";

/** A release a network partition holds: it never settles. */
const hangs = (): Promise<void> => new Promise<void>(() => {});

describe("Resources", () => {
  it("releases in reverse order of acquisition, once", async () => {
    const order: string[] = [];
    const r = new Resources();
    r.add("a", "A", (x) => void order.push(x));
    r.defer("b", () => void order.push("B"));
    r.add("c", "C", async (x) => {
      await Promise.resolve();
      order.push(x);
    });
    await Promise.all([r.close(), r.close()]);
    await r[Symbol.asyncDispose]();
    assert.deepEqual(order, ["C", "B", "A"]);
  });

  it("keeps releasing after a failure, reports each and rethrows the first", async () => {
    const order: string[] = [];
    const reported: string[] = [];
    const r = new Resources((name) => reported.push(name));
    r.defer("a", () => void order.push("a"));
    r.defer("b", () => {
      throw new Error("b failed");
    });
    r.defer("c", () => Promise.reject(new Error("c failed")));
    await assert.rejects(r.close(), /c failed/);
    assert.deepEqual(order, ["a"]);
    assert.deepEqual(reported, ["c", "b"]);
  });

  it("refuses new acquisitions while closing", async () => {
    const r = new Resources();
    await r.close();
    assert.throws(() => r.defer("late", () => {}), /closing/);
  });

  it("leaves a release that runs over its time limit behind, reports it, and goes on; close() resolves", async () => {
    const order: string[] = [];
    const reported: { name: string; timedOut: boolean; timeoutMs?: number }[] = [];
    const r = new Resources((name, error) =>
      reported.push({
        name,
        timedOut: isCloseTimeoutError(error),
        ...(isCloseTimeoutError(error) ? { timeoutMs: error.timeoutMs } : {}),
      }),
    );
    r.defer("first", () => void order.push("first"));
    r.defer("held", hangs, 20);
    r.defer("quick", () => void order.push("quick"), 20);
    await r.close();
    assert.deepEqual(order, ["quick", "first"]);
    assert.deepEqual(reported, [{ name: "held", timedOut: true, timeoutMs: 20 }]);
  });

  it("bounds all releases by the close budget; once it is spent, each still gets the floor", async () => {
    const order: string[] = [];
    const timedOut: { name: string; timeoutMs: number }[] = [];
    const floorMs = 5;
    const r = new Resources((name, error) => {
      if (isCloseTimeoutError(error)) timedOut.push({ name, timeoutMs: error.timeoutMs });
    }, floorMs);
    r.defer("local", () => void order.push("local"));
    r.defer("held later", hangs, 60_000);
    r.defer("held first", hangs);
    await r.close(30);
    assert.deepEqual(order, ["local"], "the releases after the held ones still ran");
    assert.equal(timedOut.length, 2);
    assert.equal(timedOut[0]!.name, "held first");
    assert.ok(
      timedOut[0]!.timeoutMs <= 30,
      `the budget bounds a release without a limit: ${timedOut[0]!.timeoutMs}`,
    );
    assert.deepEqual(timedOut[1], { name: "held later", timeoutMs: floorMs });
  });

  it("still rethrows a release that failed, not one that timed out", async () => {
    const r = new Resources();
    r.defer("fails", () => Promise.reject(new Error("fails")));
    r.defer("held", hangs, 10);
    await assert.rejects(r.close(), /fails/);
  });
});
