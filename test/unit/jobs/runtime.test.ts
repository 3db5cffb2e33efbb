/**
 * The job runtime with the memory ledger: admission (done, cancelled, held, run), the outcome
 * record, stall detection, lease loss, cancellation routing and checkpoints. Real timers with
 * short settings; the tests wait for events (aborts), not for fixed sleeps.
 */
import assert from "node:assert/strict";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import { pino } from "pino";
import type { SubscriptionBinding } from "../../../src/worker/config.js";
import { abortCode } from "../../../src/worker/jobs/abort.js";
import { JobRuntime, type Admission, type SubscriptionJobs } from "../../../src/worker/jobs/runtime.js";
import { MemoryLedgerStore } from "../../../src/worker/ledger/memory.js";
import type { DeliveryEvent } from "../../../src/worker/observer.js";

const binding = { key: "jobs/work", topic: "jobs", subscription: "work" } as SubscriptionBinding;
const log = pino({ level: "silent" });

function message(id: string, props: Record<string, string> = {}): ServiceBusReceivedMessage {
  return {
    messageId: id,
    applicationProperties: props,
    deliveryCount: 0,
    body: null,
  } as unknown as ServiceBusReceivedMessage;
}

function delivery(id: string) {
  const event: DeliveryEvent = {
    topic: "jobs",
    subscription: "work",
    messageId: id,
    sessionId: undefined,
    subject: "Job",
    attempt: 1,
    deliveryCount: 0,
  };
  return { event, controller: new AbortController() };
}

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(signal.reason), { once: true }),
  );
}

function run(admission: Admission) {
  assert.equal(admission.kind, "run");
  if (admission.kind !== "run") throw new Error("unreachable");
  return admission.job;
}

describe("jobs: runtime (memory ledger)", () => {
  let store: MemoryLedgerStore;
  let runtime: JobRuntime;
  let jobs: SubscriptionJobs;
  const skipped: string[] = [];
  const abortedCodes: string[] = [];

  beforeEach(async () => {
    store = new MemoryLedgerStore();
    skipped.length = 0;
    abortedCodes.length = 0;
    runtime = await JobRuntime.start({
      store,
      instanceId: "pod-a",
      settings: {
        leaseMs: 300,
        maxLockRenewalMs: 60_000,
        outcomeTtlMs: 60_000,
        progressIntervalMs: 100,
        fault: undefined,
      },
      log,
      observer: {
        jobSkipped: (e) => skipped.push(`${e.jobId}:${e.why}`),
        jobAborted: (e) => abortedCodes.push(e.code),
        ledgerUnavailable: () => {},
      },
    });
    jobs = runtime.forSubscription(binding, { stallTimeoutMs: 100, jobEvents: false }, undefined, log);
  });

  afterEach(async () => {
    await runtime.close();
    await store.close();
  });

  it("runs a fresh key, records its outcome, and skips a second delivery of it as done", async () => {
    const job = run(await jobs.admit(message("m1"), delivery("m1")));
    job.start();
    await job.finish({ kind: "success" }, { kind: "complete" });
    const again = await jobs.admit(message("m1"), delivery("m1"));
    assert.deepEqual(again, { kind: "skip", why: "done", settlement: { kind: "complete" } });
    assert.deepEqual(skipped, ["m1:done"]);
  });

  it("keys on the idempotency-key property before the MessageId", async () => {
    const job = run(await jobs.admit(message("a", { "idempotency-key": "order-7" }), delivery("a")));
    assert.equal(job.context.idempotencyKey, "order-7");
    const other = await jobs.admit(message("b", { "idempotency-key": "order-7" }), delivery("b"));
    assert.equal(other.kind, "held");
    await job.finish({ kind: "success" }, { kind: "complete" });
  });

  it("defers a key held by a live holder until about its lease's end", async () => {
    const job = run(await jobs.admit(message("m2"), delivery("m2")));
    const held = await jobs.admit(message("m2"), delivery("m2"));
    assert.equal(held.kind, "held");
    if (held.kind === "held") assert.ok(held.retryInMs >= 1_000, "at least the minimum deferral");
    await job.finish({ kind: "failed", error: new Error("x") }, { kind: "abandon" });
    assert.equal(
      (await jobs.admit(message("m2"), delivery("m2"))).kind,
      "run",
      "released at once after a failure",
    );
  });

  it("dead-letters a key cancelled before it started, without running it", async () => {
    await store.cancel("m3", { reason: "user", requestedAt: 1 });
    const admission = await jobs.admit(message("m3"), delivery("m3"));
    assert.equal(admission.kind, "skip");
    if (admission.kind === "skip") {
      assert.equal(admission.settlement.kind, "deadLetter");
      if (admission.settlement.kind === "deadLetter") assert.equal(admission.settlement.reason, "Cancelled");
    }
    assert.deepEqual(skipped, ["m3:cancelled"]);
  });

  it("aborts a running job as Cancelled when the store hears of a cancellation", async () => {
    const d = delivery("m4");
    const job = run(await jobs.admit(message("m4"), d));
    job.start();
    const reason = aborted(d.controller.signal);
    await runtime.store!.cancel("m4", { reason: "stop", requestedAt: 1 });
    assert.equal(abortCode(await reason), "Cancelled");
    assert.deepEqual(abortedCodes, ["Cancelled"]);
    await job.finish({ kind: "interrupted" }, { kind: "deadLetter", reason: "Cancelled", description: "" });
  });

  it("aborts a handler that heartbeated and then went silent as Stalled, and stops renewing its lock", async () => {
    const d = delivery("m5");
    const job = run(await jobs.admit(message("m5"), d));
    job.start();
    assert.equal(job.shouldRenewLock(), true);
    job.context.heartbeat({ done: 1 });
    const reason = await aborted(d.controller.signal);
    assert.equal(abortCode(reason), "Stalled");
    assert.equal(job.shouldRenewLock(), false);
    await job.finish({ kind: "interrupted" }, { kind: "abandon" });
  });

  it("keeps a heartbeating handler alive past its stall timeout", async () => {
    const d = delivery("m6");
    const job = run(await jobs.admit(message("m6"), d));
    job.start();
    for (let i = 0; i < 6; i += 1) {
      job.context.heartbeat();
      await new Promise((r) => setTimeout(r, 40));
    }
    assert.equal(d.controller.signal.aborted, false);
    await job.finish({ kind: "success" }, { kind: "complete" });
  });

  it("aborts as LockLost when another holder took the claim over", async () => {
    const d = delivery("m7");
    const job = run(await jobs.admit(message("m7"), d));
    job.start();
    // Another pod's claim replaced ours (as after an expired lease).
    await store.complete({ scope: "jobs/work", id: "m7" }, "other", {
      status: "succeeded",
      at: 1,
      holder: "other",
    });
    assert.equal(abortCode(await aborted(d.controller.signal)), "LockLost");
    await job.finish({ kind: "interrupted" }, undefined);
  });

  it("hands the checkpoint to the next run after a failure", async () => {
    const job = run(await jobs.admit(message("m8"), delivery("m8")));
    await job.context.checkpoint({ next: 3 });
    await job.finish({ kind: "failed", error: new Error("crash") }, { kind: "abandon" });
    const resumed = run(await jobs.admit(message("m8"), delivery("m8")));
    assert.deepEqual(resumed.context.resumeFrom, { next: 3 });
    await resumed.finish({ kind: "success" }, { kind: "complete" });
  });

  it("renews a running job's claim, so another pod keeps waiting past the first lease", async () => {
    const job = run(await jobs.admit(message("r1"), delivery("r1")));
    job.start();
    const key = { scope: binding.key, id: "r1" };
    const heldUntil = async (): Promise<number> => {
      const claim = await store.claim(key, "pod-b", 300);
      assert.equal(claim.kind, "held", "the other pod never gets the claim");
      return claim.kind === "held" ? claim.leaseExpiresAt : 0;
    };
    const firstExpiry = await heldUntil();
    // Three lease lengths: without renewals the claim would have run out twice over.
    const until = Date.now() + 900;
    let lastExpiry = firstExpiry;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      lastExpiry = await heldUntil();
    }
    assert.ok(lastExpiry > firstExpiry + 500, "the lease moved on");
    await job.finish({ kind: "success" }, { kind: "complete" });
    assert.equal((await store.claim(key, "pod-b", 300)).kind, "done");
  });

  it("publishes each job's life as events a foreground service can show", async () => {
    const events: { subject: string; payload: Record<string, unknown> }[] = [];
    const withEvents = runtime.forSubscription(
      binding,
      { stallTimeoutMs: 100, jobEvents: true },
      (subject, payload) => {
        events.push({ subject, payload });
        return Promise.resolve();
      },
      log,
    );
    const done = run(await withEvents.admit(message("e1"), delivery("e1")));
    done.start();
    await done.finish({ kind: "success" }, { kind: "complete" });
    const failing = run(await withEvents.admit(message("e2"), delivery("e2")));
    failing.start();
    await failing.context.checkpoint({ step: 1 });
    const error = Object.assign(new Error("smtp down"), { code: "ECONNREFUSED" });
    await failing.finish({ kind: "failed", error }, { kind: "abandon" });
    const resumed = run(await withEvents.admit(message("e2"), delivery("e2")));
    resumed.start();
    await resumed.finish(
      { kind: "failed", error },
      { kind: "deadLetter", reason: "MaxAttemptsExceeded", description: "gave up" },
    );
    await runtime.close(); // flushes the events in flight (closing twice is harmless)

    const seen = events.map((e) => `${e.subject}:${String(e.payload.jobId)}`);
    assert.deepEqual(seen, [
      "JobStarted:e1",
      "JobSucceeded:e1",
      "JobStarted:e2",
      "JobFailed:e2",
      "JobStarted:e2",
      "JobDeadLettered:e2",
    ]);
    const [started, succeeded, , failed, restarted, deadLettered] = events.map((e) => e.payload);
    assert.equal(started!.resumed, false);
    assert.equal(restarted!.resumed, true, "a run that got a checkpoint says it resumed");
    assert.ok(typeof succeeded!.durationMs === "number" && succeeded!.durationMs >= 0);
    assert.ok(succeeded!.durationMs < 3_600_000, "a duration, not a timestamp");
    assert.deepEqual(failed!.error, { class: "Error", code: "ECONNREFUSED", message: "smtp down" });
    assert.equal(failed!.willRetry, true);
    assert.deepEqual([deadLettered!.reason, deadLettered!.description], ["MaxAttemptsExceeded", "gave up"]);
    for (const e of events)
      assert.deepEqual(
        [e.payload.topic, e.payload.subscription, e.payload.subject, e.payload.attempt],
        ["jobs", "work", "Job", 1],
      );
  });
});
