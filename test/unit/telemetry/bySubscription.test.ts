import assert from "node:assert/strict";
import { bySubscription } from "../../../src/telemetry/bySubscription.js";

describe("telemetry: per-subscription state", () => {
  it("makes one value per topic and subscription, whatever order the events come in", () => {
    const made: string[] = [];
    const of = bySubscription((topic, subscription) => {
      made.push(`${topic}/${subscription}`);
      return { key: `${topic}/${subscription}` };
    });
    const a = of({ topic: "t", subscription: "a" });
    const b = of({ topic: "t", subscription: "b" });
    const other = of({ topic: "u", subscription: "a" });
    assert.strictEqual(of({ topic: "t", subscription: "a" }), a);
    assert.strictEqual(of({ topic: "t", subscription: "a" }), a, "the last hit");
    assert.strictEqual(of({ topic: "t", subscription: "b" }), b);
    assert.strictEqual(of({ topic: "u", subscription: "a" }), other);
    assert.deepEqual([a.key, b.key, other.key], ["t/a", "t/b", "u/a"]);
    assert.deepEqual(made, ["t/a", "t/b", "u/a"]);
  });
});
