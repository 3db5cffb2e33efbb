import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { BucketHistogram } from "../../../src/telemetry/bucketHistogram.js";

describe("telemetry: bucket histogram", () => {
  it("counts each value in the first bucket whose bound it does not exceed, cumulatively, as Prometheus text", async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ pod: "p1" });
    const h = new BucketHistogram("demo_seconds", "A demo.", [0.1, 1, 10], registry);
    const s = h.with({ subscription: "t/s" });
    for (const v of [0.05, 0.1, 0.5, 1, 20]) s.observe(v);
    h.with({ subscription: "t/other" }).observe(3);
    const text = await registry.metrics();
    assert.match(text, /# TYPE demo_seconds histogram/);
    const line = (le: string, sub = "t/s") =>
      new RegExp(
        `demo_seconds_bucket\\{le="${le.replace("+", "\\+")}",subscription="${sub}",pod="p1"\\} (\\d+)`,
      );
    assert.equal(text.match(line("0.1"))?.[1], "2", "le is inclusive");
    assert.equal(text.match(line("1"))?.[1], "4");
    assert.equal(text.match(line("10"))?.[1], "4");
    assert.equal(text.match(line("+Inf"))?.[1], "5");
    assert.match(text, /demo_seconds_sum\{subscription="t\/s",pod="p1"\} 21\.65/);
    assert.match(text, /demo_seconds_count\{subscription="t\/s",pod="p1"\} 5/);
    assert.equal(text.match(line("10", "t/other"))?.[1], "1");
    assert.strictEqual(h.with({ subscription: "t/s" }), s, "one series per label set");
  });
});
