import assert from "node:assert/strict";
import { pino } from "pino";
import { defineHandlers, type HandlerContext } from "../../../src/handlers/registry.js";
import { topology } from "../../../src/topics/index.js";
import { defineSchedule } from "../../../src/topics/scheduleDsl.js";
import { MemoryLedgerStore } from "../../../src/worker/ledger/memory.js";
import { EMPTY_BOOK, reconcile } from "../../../src/worker/schedules/book.js";
import { withScheduleTicks } from "../../../src/worker/schedules/handler.js";
import { tickInfo } from "../../../src/worker/schedules/message.js";
import { BOOK_KEY, readLastOutcome, type ScheduleObserver } from "../../../src/worker/schedules/state.js";

const spec = {
  name: "nightly",
  cron: "0 3 * * *",
  topic: "reports",
  subject: "ReportRequested",
  payload: { reportId: "nightly", kind: "sales", rows: 10 },
  catchUp: "none",
  overlap: false,
} as const;
const nightly = defineSchedule(topology, spec);
const changed = defineSchedule(topology, { ...spec, cron: "0 4 * * *" });

function ctxFor(properties: Record<string, unknown>, attempt = 1): HandlerContext {
  return {
    log: pino({ level: "silent" }),
    topic: "reports",
    subscription: "generate",
    message: {
      messageId: "m",
      correlationId: undefined,
      causationId: undefined,
      sessionId: undefined,
      deliveryCount: 0,
      enqueuedTimeUtc: undefined,
      subject: "ReportRequested",
      applicationProperties: properties,
    },
    attempt,
    signal: new AbortController().signal,
    publish: () => Promise.reject(new Error("not in this test")),
  } as unknown as HandlerContext;
}

function tickProps(at: number, schedule = nightly): Record<string, unknown> {
  const tick = tickInfo(schedule, at);
  return {
    "sbw-schedule": schedule.name,
    "sbw-tick": tick.iso,
    "sbw-schedule-fingerprint": schedule.fingerprint,
  };
}

describe("tick handler wrapper", () => {
  let store: MemoryLedgerStore;
  let calls: string[];
  /** While set, the handler waits for it (a long-running tick). */
  let gate: Promise<void> | undefined;
  const skipped: string[] = [];
  const observer: ScheduleObserver = { tickSkipped: (e) => skipped.push(`${e.why}:${e.tick}`) };

  beforeEach(() => {
    store = new MemoryLedgerStore();
    calls = [];
    skipped.length = 0;
  });
  afterEach(() => store.close());

  function registry() {
    const base = defineHandlers(topology, {
      reports: {
        generate: {
          ReportRequested: async (p) => {
            calls.push(p.reportId);
            await gate;
          },
        },
      },
    });
    return withScheduleTicks(base, { schedules: [nightly], store, observer });
  }

  it("passes messages that are not ticks straight to the handler", async () => {
    const h = registry().lookup("reports", "generate", "ReportRequested")!;
    await h({ reportId: "a" }, ctxFor({}));
    assert.deepEqual(calls, ["a"]);
  });

  it("runs a current tick and records its outcome", async () => {
    const h = registry().lookup("reports", "generate", "ReportRequested")!;
    const at = Date.parse("2025-06-01T03:00:00Z");
    await h({ reportId: "a" }, ctxFor(tickProps(at)));
    assert.deepEqual(calls, ["a"]);
    assert.equal((await readLastOutcome(store, "nightly"))?.outcome, "succeeded");
  });

  it("skips a tick of a changed definition that fires after the change, and counts it", async () => {
    const now = Date.parse("2025-06-01T00:00:00Z");
    const { book } = reconcile(
      EMPTY_BOOK,
      { id: "p", startedAt: 0, schedules: { nightly: changed.fingerprint } },
      now,
      60_000,
    );
    await store.claim(BOOK_KEY, "w", 1_000);
    await store.setCheckpoint(BOOK_KEY, "w", book);
    await store.release(BOOK_KEY, "w");
    const h = registry().lookup("reports", "generate", "ReportRequested")!;
    await h({ reportId: "a" }, ctxFor(tickProps(Date.parse("2025-06-01T03:00:00Z"))));
    await h({ reportId: "b" }, ctxFor(tickProps(Date.parse("2025-05-31T03:00:00Z"))));
    assert.deepEqual(calls, ["b"], "the tick due before the change still runs");
    assert.deepEqual(skipped, ["stale:2025-06-01T03:00:00.000Z"]);
  });

  it("skips a tick that finds the previous one still running (overlap: false)", async () => {
    const h = registry().lookup("reports", "generate", "ReportRequested")!;
    let open = (): void => {};
    gate = new Promise<void>((r) => (open = r));
    const first = h({ reportId: "a" }, ctxFor(tickProps(Date.parse("2025-06-01T03:00:00Z"))));
    await new Promise((r) => setImmediate(r));
    await h({ reportId: "b" }, ctxFor(tickProps(Date.parse("2025-06-02T03:00:00Z"))));
    assert.deepEqual(skipped, ["overlap:2025-06-02T03:00:00.000Z"]);
    assert.equal((await readLastOutcome(store, "nightly"))?.outcome, "skipped-overlap");
    open();
    gate = undefined;
    await first;
    await h({ reportId: "c" }, ctxFor(tickProps(Date.parse("2025-06-03T03:00:00Z"))));
    assert.deepEqual(calls, ["a", "c"]);
  });

  it("records a failed tick and rethrows, so the worker retries it", async () => {
    const base = defineHandlers(topology, {
      reports: { generate: { ReportRequested: () => Promise.reject(new Error("boom")) } },
    });
    const h = withScheduleTicks(base, { schedules: [nightly], store }).lookup(
      "reports",
      "generate",
      "ReportRequested",
    )!;
    await assert.rejects(
      h({ reportId: "a" }, ctxFor(tickProps(Date.parse("2025-06-01T03:00:00Z")), 2)),
      /boom/,
    );
    const last = await readLastOutcome(store, "nightly");
    assert.deepEqual([last?.outcome, last?.attempt, last?.error], ["failed", 2, "boom"]);
    // The running flag was released: the next tick runs.
    assert.equal(
      (await store.claim({ scope: "sbw-schedule", id: "sbw-schedule:nightly" }, "x", 1000)).kind,
      "claimed",
    );
  });
});
