/** When a failing receive loop is only failing (not ready) and when it is wedged (restart it). */
import assert from "node:assert/strict";
import { failureHealth } from "../../../src/worker/receiveLoop.js";

describe("receive loop: failing or wedged", () => {
  const limits = { livenessTimeoutMs: 120_000, quietMs: 60_000 };
  const now = 10_000_000;
  const table: { name: string; since?: number; lastAt?: number; failing: boolean; wedged: boolean }[] = [
    { name: "not failing", failing: false, wedged: false },
    {
      name: "failing for an hour, failed again a second ago (still trying)",
      since: now - 3_600_000,
      lastAt: now - 1_000,
      failing: true,
      wedged: false,
    },
    {
      name: "failing, silent for liveness + quiet",
      since: now - 3_600_000,
      lastAt: now - 180_000,
      failing: true,
      wedged: false,
    },
    {
      name: "failing, silent for longer (stopped trying)",
      since: now - 3_600_000,
      lastAt: now - 180_001,
      failing: true,
      wedged: true,
    },
    { name: "one failure, long ago, nothing since", since: now - 180_001, failing: true, wedged: true },
    { name: "one failure, just now", since: now - 10, failing: true, wedged: false },
  ];
  for (const t of table) {
    it(t.name, () => {
      assert.deepEqual(failureHealth({ since: t.since, lastAt: t.lastAt }, limits, now), {
        failing: t.failing,
        wedged: t.wedged,
      });
    });
  }
});
