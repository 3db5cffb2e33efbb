import assert from "node:assert/strict";
import { backoffCeiling, backoffDelay } from "../../../src/worker/backoff.js";

describe("backoff", () => {
  const options = { baseMs: 100, maxMs: 1_000 };

  it("doubles the ceiling per attempt from the base", () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => backoffCeiling(a, options)),
      [100, 200, 400, 800],
    );
  });

  it("caps the ceiling at maxMs", () => {
    assert.equal(backoffCeiling(5, options), 1_000);
    assert.equal(backoffCeiling(10_000, options), 1_000);
  });

  it("applies full jitter: uniform in [0, ceiling)", () => {
    assert.equal(
      backoffDelay(3, options, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, options, () => 0.5),
      200,
    );
    assert.equal(
      backoffDelay(3, options, () => 0.9999),
      399,
    );
  });

  it("stays within bounds for random draws", () => {
    for (let attempt = 1; attempt < 20; attempt += 1) {
      const d = backoffDelay(attempt, options);
      assert.ok(d >= 0 && d < backoffCeiling(attempt, options), `attempt ${attempt}: ${d}`);
    }
  });

  it("treats attempt 0 like attempt 1", () => {
    assert.equal(backoffCeiling(0, options), 100);
  });
});
