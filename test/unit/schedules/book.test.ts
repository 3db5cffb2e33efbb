import assert from "node:assert/strict";
import {
  EMPTY_BOOK,
  isCurrent,
  parseBook,
  reconcile,
  recordScheduled,
  tickVerdict,
  type Book,
  type ScheduleState,
} from "../../../src/worker/schedules/book.js";

const TTL = 60_000;
const pod = (id: string, startedAt: number, schedules: Record<string, string>) => ({
  id,
  startedAt,
  schedules,
});

/** A book where pod A (started at 0) runs schedule `s` with fingerprint `old` and one tick pending. */
function withPendingTick(now: number): Book {
  let book = reconcile(EMPTY_BOOK, pod("A", 0, { s: "old" }), now, TTL).book;
  book = recordScheduled(
    book,
    "s",
    "old",
    [
      { at: now + 30_000, entity: "t", seqs: ["7"] },
      { at: now - 1, entity: "t", seqs: ["6"] },
    ],
    now + 60_000,
  );
  return book;
}

describe("schedule book", () => {
  it("starts a new schedule with the pod's definition and no watermark", () => {
    const { book, changes } = reconcile(EMPTY_BOOK, pod("A", 0, { s: "f1" }), 1_000, TTL);
    assert.deepEqual(book.schedules.s, { fingerprint: "f1", since: 1_000, through: undefined, ticks: [] });
    assert.deepEqual(changes, []);
    assert.ok(isCurrent(book, "s", "f1"));
  });

  it("records scheduled ticks and moves the watermark forward only", () => {
    let book = withPendingTick(1_000);
    assert.equal(book.schedules.s?.through, 61_000);
    book = recordScheduled(book, "s", "old", [{ at: 31_000, entity: "t", seqs: ["7", "9"] }], 10_000);
    assert.equal(book.schedules.s?.through, 61_000);
    assert.deepEqual(book.schedules.s?.ticks.find((t) => t.at === 31_000)?.seqs, ["7", "9"]);
  });

  it("does not record ticks of a definition that is not current", () => {
    const book = withPendingTick(1_000);
    assert.equal(recordScheduled(book, "s", "other", [{ at: 5, entity: "t", seqs: ["1"] }], 99), book);
  });

  it("keeps the definition when pods agree, and drops fired ticks", () => {
    const first = withPendingTick(1_000);
    const { book, changes } = reconcile(first, pod("B", 500, { s: "old" }), 2_000, TTL);
    assert.deepEqual(changes, []);
    assert.deepEqual(
      book.schedules.s?.ticks.map((t) => t.seqs),
      [["7"]],
    );
    assert.deepEqual(Object.keys(book.pods).sort(), ["A", "B"]);
  });

  it("switches to the definition of the pod that started last and cancels the old pending ticks", () => {
    const { book, changes } = reconcile(withPendingTick(1_000), pod("B", 1_500, { s: "new" }), 2_000, TTL);
    assert.deepEqual(changes, [
      {
        name: "s",
        from: "old",
        to: "new",
        cancel: [{ at: 31_000, fingerprint: "old", entity: "t", seqs: ["7"] }],
      },
    ]);
    assert.deepEqual(book.schedules.s, { fingerprint: "new", since: 2_000, through: 61_000, ticks: [] });
    // The outdated pod A, on its next cycle, changes nothing and may not schedule.
    const again = reconcile(book, pod("A", 0, { s: "old" }), 3_000, TTL);
    assert.deepEqual(again.changes, []);
    assert.ok(!isCurrent(again.book, "s", "old"));
  });

  it("marks a schedule removed when the newest pod no longer declares it", () => {
    const { book, changes } = reconcile(withPendingTick(1_000), pod("B", 1_500, {}), 2_000, TTL);
    assert.deepEqual(changes, [
      {
        name: "s",
        from: "old",
        to: null,
        cancel: [{ at: 31_000, fingerprint: "old", entity: "t", seqs: ["7"] }],
      },
    ]);
    assert.equal(book.schedules.s?.fingerprint, null);
  });

  it("returns to the older definition when the newer pod is gone (rollback)", () => {
    const switched = reconcile(withPendingTick(1_000), pod("B", 1_500, { s: "new" }), 2_000, TTL).book;
    const { book, changes } = reconcile(switched, pod("A", 0, { s: "old" }), 2_000 + TTL + 1, TTL);
    assert.deepEqual(Object.keys(book.pods), ["A"]);
    assert.deepEqual(changes, [{ name: "s", from: "new", to: "old", cancel: [] }]);
    assert.ok(isCurrent(book, "s", "old"));
  });

  it("parses an unknown document as an empty book", () => {
    assert.equal(parseBook(undefined), EMPTY_BOOK);
    assert.equal(parseBook({ version: 2 }), EMPTY_BOOK);
    const book = withPendingTick(1);
    assert.equal(parseBook(JSON.parse(JSON.stringify(book))).schedules.s?.fingerprint, "old");
  });

  describe("tick verdicts", () => {
    const state: ScheduleState = { fingerprint: "new", since: 10_000, through: 20_000, ticks: [] };
    const removed: ScheduleState = { ...state, fingerprint: null };
    for (const [name, tick, s, own, expected] of [
      ["runs a tick of the current definition", { at: 15_000, fingerprint: "new" }, state, "new", "run"],
      [
        "runs an old tick that fired before the change",
        { at: 9_000, fingerprint: "old" },
        state,
        "new",
        "run",
      ],
      [
        "skips an old tick that fires after the change",
        { at: 12_000, fingerprint: "old" },
        state,
        "new",
        "stale",
      ],
      ["skips a tick of a removed schedule", { at: 12_000, fingerprint: "old" }, removed, undefined, "stale"],
      [
        "runs a tick of the current definition on an outdated pod",
        { at: 15_000, fingerprint: "new" },
        state,
        "old",
        "run",
      ],
      [
        "without a book, runs a tick of the pod's own definition",
        { at: 1, fingerprint: "new" },
        undefined,
        "new",
        "run",
      ],
      ["without a book, skips any other tick", { at: 1, fingerprint: "old" }, undefined, "new", "stale"],
    ] as const) {
      it(name, () => {
        assert.equal(tickVerdict({ name: "s", ...tick }, s, own), expected);
      });
    }
  });
});
