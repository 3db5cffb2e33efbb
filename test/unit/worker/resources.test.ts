import assert from "node:assert/strict";
import { Resources } from "../../../src/worker/resources.js";

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
});
