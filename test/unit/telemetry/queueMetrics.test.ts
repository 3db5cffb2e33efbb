import assert from "node:assert/strict";
import { pino } from "pino";
import type { QueueDepth } from "../../../src/telemetry/metrics.js";
import { startQueueMetrics, type QueueTarget } from "../../../src/telemetry/queueMetrics.js";

const target: QueueTarget = {
  key: "orders/audit",
  topic: "orders",
  subscription: "audit",
  requiresSession: false,
};
const depth: QueueDepth = { active: 3, deadLetter: 1, scheduled: 0 };

/** A poll that gets no answer (a partition): it ends only when its signal aborts. */
const noAnswer = (_t: QueueTarget, signal: AbortSignal): Promise<QueueDepth> =>
  new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));

function recorder() {
  const lines: string[] = [];
  const log = pino(
    { level: "info" },
    { write: (l: string) => void lines.push((JSON.parse(l) as { msg: string }).msg) },
  );
  const set: QueueDepth[] = [];
  return { lines, log, metrics: { setQueueDepth: (_key: string, d: QueueDepth) => void set.push(d) }, set };
}

describe("queue metrics poller", () => {
  it("gives up a poll that gets no answer after its timeout, says so once, and polls again", async () => {
    const r = recorder();
    let answer = false;
    const poller = startQueueMetrics({
      metrics: r.metrics,
      source: { depth: (t, signal) => (answer ? Promise.resolve(depth) : noAnswer(t, signal)) },
      targets: [target],
      intervalMs: 3_600_000, // only the explicit polls below
      timeoutMs: 20,
      log: r.log,
    });
    await poller.poll(); // the first poll, started at once
    await poller.poll();
    assert.deepEqual(r.set, []);
    assert.deepEqual(r.lines, ["queue metrics poll failed"], "once per failing streak");
    answer = true;
    await poller.poll();
    assert.deepEqual(r.set, [depth]);
    assert.deepEqual(r.lines, ["queue metrics poll failed", "queue metrics recovered"]);
    await poller.close();
  });

  it("close() ends a poll in flight", async () => {
    const r = recorder();
    const poller = startQueueMetrics({
      metrics: r.metrics,
      source: { depth: noAnswer },
      targets: [target],
      intervalMs: 3_600_000,
      timeoutMs: 3_600_000,
      log: r.log,
    });
    await poller.close(); // would wait an hour for the first poll
    assert.deepEqual(r.set, []);
  });
});
