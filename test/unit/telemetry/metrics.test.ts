import assert from "node:assert/strict";
import { createWorkerMetrics, type WorkerMetrics } from "../../../src/telemetry/metrics.js";
import type { DeliveryEvent } from "../../../src/worker/observer.js";

const base: DeliveryEvent = {
  topic: "orders",
  subscription: "audit",
  messageId: "m",
  sessionId: undefined,
  subject: "OrderPlaced",
  attempt: 1,
  deliveryCount: 0,
};

async function value(metrics: WorkerMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const json = await metrics.registry.getMetricsAsJSON();
  const metric = json.find((m) => m.name === name);
  const found = metric?.values.find((v) =>
    Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  return found?.value ?? 0;
}

describe("telemetry: worker metrics", () => {
  it("counts settlements by outcome, retries and dead-letters by reason", async () => {
    const m = createWorkerMetrics();
    const o = m.observer;
    o.settled!({ ...base, settlement: { kind: "complete" }, durationMs: 12 });
    o.settled!({ ...base, settlement: { kind: "retry", delayMs: 5, nextAttempt: 2 }, durationMs: 3 });
    o.settled!({
      ...base,
      settlement: { kind: "deadLetter", reason: "MaxAttemptsExceeded", description: "" },
      durationMs: 3,
    });
    o.settled!({ ...base, settlement: { kind: "abandon" }, durationMs: 3 });
    // A ledger deferral (same attempt): the handler did not run, not counted.
    o.settled!({ ...base, settlement: { kind: "retry", delayMs: 5, nextAttempt: 1 }, durationMs: 3 });
    const sub = { subscription: "orders/audit" };
    assert.equal(await value(m, "sbworker_messages_processed_total", { ...sub, outcome: "completed" }), 1);
    assert.equal(await value(m, "sbworker_messages_processed_total", { ...sub, outcome: "retried" }), 1);
    assert.equal(
      await value(m, "sbworker_messages_processed_total", { ...sub, outcome: "dead_lettered" }),
      1,
    );
    assert.equal(await value(m, "sbworker_messages_processed_total", { ...sub, outcome: "abandoned" }), 1);
    assert.equal(await value(m, "sbworker_retries_total", sub), 1);
    assert.equal(await value(m, "sbworker_dead_letters_total", { ...sub, reason: "MaxAttemptsExceeded" }), 1);
    const text = await m.render();
    assert.match(
      text,
      /sbworker_processing_duration_seconds_bucket\{le="0.025",subscription="orders\/audit",outcome="completed"\} 1/,
    );
  });

  it("tracks handlers in flight and the queue wait once per delivery", async () => {
    let now = Date.parse("2026-01-01T00:00:10Z");
    const m = createWorkerMetrics({ now: () => now });
    const enqueued = new Date("2026-01-01T00:00:00Z");
    const e = { ...base, enqueuedTimeUtc: enqueued };
    m.observer.handlerStarted!(e);
    assert.equal(await value(m, "sbworker_inflight_handlers", { subscription: "orders/audit" }), 1);
    m.observer.handlerFinished!({ ...e, outcome: "failed", durationMs: 1 });
    now += 5_000;
    m.observer.handlerStarted!({ ...e, attempt: 2, inPlaceRetry: true }); // a session's retry in place
    m.observer.handlerFinished!({ ...e, attempt: 2, outcome: "success", durationMs: 1 });
    assert.equal(await value(m, "sbworker_inflight_handlers", { subscription: "orders/audit" }), 0);
    const text = await m.render();
    assert.match(text, /sbworker_time_in_queue_seconds_sum\{subscription="orders\/audit"\} 10\n/);
    assert.match(text, /sbworker_time_in_queue_seconds_count\{subscription="orders\/audit"\} 1\n/);
  });

  it("counts every failed receive or session accept", async () => {
    const m = createWorkerMetrics();
    const error = new Error("connect ECONNREFUSED");
    for (let i = 0; i < 3; i += 1) m.observer.receiveError!({ subscription: "orders/audit", error });
    m.observer.receiveError!({ subscription: "orders/fulfillment", error });
    assert.equal(await value(m, "sbworker_receive_errors_total", { subscription: "orders/audit" }), 3);
    assert.equal(await value(m, "sbworker_receive_errors_total", { subscription: "orders/fulfillment" }), 1);
  });

  it("counts locks, sessions, ledger duplicates and stalls", async () => {
    const m = createWorkerMetrics();
    const o = m.observer;
    const sub = { subscription: "orders/fulfillment" };
    o.lockRenewed!({ subscription: "orders/fulfillment", lock: "session", id: "s" });
    o.lockLost!({ subscription: "orders/fulfillment", lock: "session", id: "s" });
    o.sessionAccepted!({ subscription: "orders/fulfillment", sessionId: "s", acquireMs: 40 });
    o.sessionAccepted!({ subscription: "orders/fulfillment", sessionId: "t" });
    o.sessionReleased!({ subscription: "orders/fulfillment", sessionId: "s", reason: "idle" });
    const job = { ...base, subscription: "fulfillment", jobId: "k" };
    // Two of the counted kind, one of another: a counter keyed on the wrong kind reads 1, not 2.
    o.jobSkipped!({ ...job, why: "done" });
    o.jobSkipped!({ ...job, why: "done" });
    o.jobSkipped!({ ...job, why: "cancelled" });
    o.jobAborted!({ ...job, code: "Stalled" });
    o.jobAborted!({ ...job, code: "Stalled" });
    o.jobAborted!({ ...job, code: "Cancelled" });
    o.ledgerUnavailable!(job);
    o.ledgerUnavailable!(job);
    o.ledgerUnavailable!(job);
    assert.equal(await value(m, "sbworker_lock_renewals_total", sub), 1);
    assert.equal(await value(m, "sbworker_lock_lost_total", sub), 1);
    assert.equal(await value(m, "sbworker_sessions_held", sub), 1);
    assert.equal(await value(m, "sbworker_ledger_duplicates_total", sub), 2);
    assert.equal(await value(m, "sbworker_stalled_total", sub), 2);
    assert.equal(await value(m, "sbworker_ledger_unavailable_total", sub), 3);
    assert.match(
      await m.render(),
      /sbworker_session_acquire_seconds_count\{subscription="orders\/fulfillment"\} 1/,
    );
  });

  it("sets the queue-depth gauges and drops an unknown oldest age", async () => {
    const m = createWorkerMetrics();
    m.setQueueDepth("orders/audit", { active: 3, deadLetter: 1, scheduled: 2, oldestActiveAgeSeconds: 7 });
    assert.equal(await value(m, "sbworker_queue_active_messages", { subscription: "orders/audit" }), 3);
    assert.equal(
      await value(m, "sbworker_oldest_active_message_age_seconds", { subscription: "orders/audit" }),
      7,
    );
    m.setQueueDepth("orders/audit", { active: 0, deadLetter: 1, scheduled: 0 });
    assert.doesNotMatch(await m.render(), /sbworker_oldest_active_message_age_seconds\{/);
  });

  it("exports Node process metrics with the sbworker_ prefix when asked", async () => {
    const m = createWorkerMetrics({ processMetrics: true });
    assert.match(await m.render(), /sbworker_process_cpu_seconds_total/);
  });
});
