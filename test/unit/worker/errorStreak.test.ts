/** One log line per outage (src/worker/errorStreak.ts), as a table of events and the lines they write. */
import assert from "node:assert/strict";
import { pino } from "pino";
import { ErrorStreak, RECEIVE_LINES } from "../../../src/worker/errorStreak.js";

type Event = { at: number } & ({ fail: Error } | { ok: true });
interface Line {
  level: number;
  msg: string;
  errors?: number;
  failedForMs?: number;
  source?: string;
  err?: { message: string };
}

function run(events: readonly Event[], everyMs = 30_000): Line[] {
  const lines: Line[] = [];
  const log = pino({ level: "debug" }, { write: (l: string) => void lines.push(JSON.parse(l) as Line) });
  let now = 0;
  const streak = new ErrorStreak({ log, lines: RECEIVE_LINES, everyMs, now: () => now });
  for (const e of events) {
    now = e.at;
    if ("fail" in e) streak.failed(e.fail, { source: "receive" });
    else streak.recovered();
  }
  return lines;
}

const refused = (): Error => Object.assign(new Error("connect ECONNREFUSED"), { code: "GeneralError" });
const notFound = (): Error =>
  Object.assign(new Error("entity not found"), { code: "MessagingEntityNotFound" });
const every = (from: number, to: number, stepMs: number, error: () => Error): Event[] => {
  const events: Event[] = [];
  for (let at = from; at <= to; at += stepMs) events.push({ at, fail: error() });
  return events;
};
const summary = (lines: Line[]): string[] =>
  lines.map((l) => `${l.msg}${l.errors === undefined ? "" : ` (${l.errors})`}`);

describe("error streak: one log line per outage", () => {
  const table: { name: string; events: Event[]; lines: string[] }[] = [
    { name: "nothing failed: nothing logged, also on success", events: [{ at: 0, ok: true }], lines: [] },
    {
      name: "a one-off failure, then success",
      events: [
        { at: 0, fail: refused() },
        { at: 1_000, ok: true },
      ],
      lines: ["receive error", "receiving again (1)"],
    },
    {
      name: "a minute of failures every second: the first, one line per 30 s, the recovery",
      events: [...every(0, 60_000, 1_000, refused), { at: 61_000, ok: true }],
      lines: [
        "receive error",
        "receive still failing (31)",
        "receive still failing (61)",
        "receiving again (61)",
      ],
    },
    {
      name: "a new kind of error in a streak is logged at once",
      events: [
        ...every(0, 3_000, 1_000, refused),
        { at: 4_000, fail: notFound() },
        { at: 5_000, fail: notFound() },
      ],
      lines: ["receive error", "receive error"],
    },
    {
      name: "errors that alternate are each logged once",
      events: [
        { at: 0, fail: refused() },
        { at: 1_000, fail: notFound() },
        { at: 2_000, fail: refused() },
        { at: 3_000, fail: notFound() },
      ],
      lines: ["receive error", "receive error"],
    },
    {
      name: "a second outage after a recovery starts a new streak",
      events: [
        { at: 0, fail: refused() },
        { at: 1_000, ok: true },
        { at: 2_000, fail: refused() },
        { at: 3_000, fail: refused() },
      ],
      lines: ["receive error", "receiving again (1)", "receive error"],
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      assert.deepEqual(summary(run(t.events)), t.lines);
    });
  }

  it("the lines carry the error, its source, and how long the streak failed", () => {
    const lines = run([...every(0, 30_000, 10_000, refused), { at: 45_000, ok: true }]);
    assert.deepEqual(
      lines.map((l) => [l.level, l.source, l.err?.message, l.failedForMs]),
      [
        [40, "receive", "connect ECONNREFUSED", undefined],
        [40, "receive", "connect ECONNREFUSED", undefined],
        [30, undefined, undefined, 45_000],
      ],
    );
  });

  it("keeps the streak's first and latest failure for the loop's health, and forgets them on recovery", () => {
    let now = 1_000;
    const log = pino({ level: "silent" });
    const streak = new ErrorStreak({ log, lines: RECEIVE_LINES, now: () => now });
    assert.deepEqual([streak.failingSince, streak.lastFailureAt], [undefined, undefined]);
    streak.failed(refused());
    now = 5_000;
    streak.failed(refused());
    assert.deepEqual([streak.failingSince, streak.lastFailureAt], [1_000, 5_000]);
    streak.recovered();
    assert.deepEqual([streak.failingSince, streak.lastFailureAt], [undefined, undefined]);
  });
});
