/**
 * One RunningJob on its own, with stub stores and a clock the test sets: lease renewal one at a
 * time, checkpoints without a place to keep them, and the trailing progress send.
 */
import assert from "node:assert/strict";
import { pino } from "pino";
import { abortCode } from "../../../src/worker/jobs/abort.js";
import type { JobEventSink, JobEventSubject } from "../../../src/worker/jobs/events.js";
import { RunningJob, type CheckpointBackend, type JobSettings } from "../../../src/worker/jobs/job.js";
import type { LedgerStore, RenewResult } from "../../../src/worker/ledger/types.js";
import type { DeliveryEvent } from "../../../src/worker/observer.js";

const event: DeliveryEvent = {
  topic: "jobs",
  subscription: "work",
  messageId: "m1",
  sessionId: undefined,
  subject: "Job",
  attempt: 1,
  deliveryCount: 0,
};

const settings: JobSettings = {
  leaseMs: 30_000,
  stallTimeoutMs: 60_000,
  maxLockRenewalMs: 3_600_000,
  outcomeTtlMs: 60_000,
  progressIntervalMs: 1_000,
  fault: undefined,
};

/** Records the events a job publishes, with a promise per subject count. */
class Events implements JobEventSink {
  readonly enabled = true;
  readonly sent: { subject: JobEventSubject; payload: Record<string, unknown> }[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  emit(subject: JobEventSubject, payload: Record<string, unknown>): void {
    this.sent.push({ subject, payload });
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }
  progress(): unknown[] {
    return this.sent.filter((e) => e.subject === "JobProgress").map((e) => e.payload.progress);
  }
}

/** A log that keeps its warnings. */
function warnings() {
  const lines: string[] = [];
  const log = pino(
    { level: "warn" },
    { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) },
  );
  return { log, lines };
}

function job(
  overrides: {
    store?: LedgerStore;
    checkpoints?: CheckpointBackend;
    events?: JobEventSink;
    log?: ReturnType<typeof warnings>["log"];
    now?: () => number;
  } = {},
) {
  const controller = new AbortController();
  const running = new RunningJob({
    key: { scope: "jobs/work", id: "k1" },
    holder: "pod-a",
    store: overrides.store,
    checkpoints: overrides.checkpoints,
    resumeFrom: undefined,
    settings,
    controller,
    event,
    events: overrides.events ?? new Events(),
    log: overrides.log ?? pino({ level: "silent" }),
    onAbort: () => {},
    onEnd: () => {},
    ...(overrides.now ? { now: overrides.now } : {}),
  });
  return { running, controller };
}

/** A store whose renewals wait until the test answers them. */
function slowRenewals() {
  const pending: ((result: RenewResult) => void)[] = [];
  const store = {
    renew: () => new Promise<RenewResult>((resolve) => pending.push(resolve)),
    release: () => Promise.resolve(),
  } as unknown as LedgerStore;
  return { store, pending };
}

describe("jobs: one running job", () => {
  it("renews its claim one renewal at a time, only between start and finish", async () => {
    const { store, pending } = slowRenewals();
    const { running } = job({ store });
    await running.renewLease();
    assert.equal(pending.length, 0, "not before start()");
    running.start();
    const first = running.renewLease();
    void running.renewLease(); // the ticker fires again while the first renewal waits
    assert.equal(pending.length, 1, "a second renewal while one is in flight is skipped");
    pending[0]!({ kind: "renewed" });
    await first;
    const second = running.renewLease();
    assert.equal(pending.length, 2, "the next tick renews again");
    pending[1]!({ kind: "renewed" });
    await second;
    await running.finish({ kind: "failed", error: new Error("x") }, { kind: "abandon" });
    await running.renewLease();
    assert.equal(pending.length, 2, "not after finish()");
  });

  it("a renewal in flight that fails lets the next tick renew again", async () => {
    let calls = 0;
    const store = {
      renew: () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error("redis down")) : Promise.resolve({ kind: "renewed" });
      },
    } as unknown as LedgerStore;
    const { log, lines } = warnings();
    const { running, controller } = job({ store, log });
    running.start();
    await running.renewLease();
    await running.renewLease();
    assert.equal(calls, 2);
    assert.deepEqual(lines, ["renewing the job's claim failed"]);
    assert.equal(controller.signal.aborted, false, "a failed renewal is not a lost claim");
  });

  it("aborts as LockLost when a renewal finds the claim gone", async () => {
    const { store, pending } = slowRenewals();
    const { running, controller } = job({ store });
    running.start();
    const renewal = running.renewLease();
    pending[0]!({ kind: "lost" });
    await renewal;
    assert.equal(abortCode(controller.signal.reason), "LockLost");
  });

  it("warns once, not per call, when checkpoints have nowhere to go, and keeps running", async () => {
    const { log, lines } = warnings();
    const { running, controller } = job({ log });
    await running.checkpoint({ step: 1 });
    await running.checkpoint({ step: 2 });
    assert.deepEqual(lines, ["checkpoints are off without a ledger (SBW_LEDGER=off)"]);
    assert.equal(controller.signal.aborted, false);
  });

  it("a checkpoint the backend refuses aborts the job as LockLost and throws", async () => {
    const { running, controller } = job({ checkpoints: { save: () => Promise.resolve(false) } });
    await assert.rejects(running.checkpoint({ step: 1 }), (e: unknown) => abortCode(e) === "LockLost");
    assert.equal(abortCode(controller.signal.reason), "LockLost");
  });

  it("sends the first progress at once and the latest held-back one when the interval ends", async () => {
    let now = 10_000;
    const events = new Events();
    const { running } = job({ events, now: () => now });
    running.heartbeat({ pct: 10 });
    assert.deepEqual(events.progress(), [{ pct: 10 }], "the leading send");
    // 990 ms of the 1,000 ms interval have passed: the trailing send is due in 10 ms.
    now += 990;
    running.heartbeat({ pct: 50 });
    running.heartbeat({ pct: 90 });
    assert.deepEqual(events.progress(), [{ pct: 10 }], "held back within the interval");
    now += 10;
    await events.until(() => events.progress().length === 2);
    assert.deepEqual(events.progress(), [{ pct: 10 }, { pct: 90 }], "the latest, not the first held back");
    const sequences = events.sent.filter((e) => e.subject === "JobProgress").map((e) => e.payload.sequence);
    assert.deepEqual(sequences, [0, 1]);
    await running.finish({ kind: "success" }, { kind: "complete" });
  });
});
