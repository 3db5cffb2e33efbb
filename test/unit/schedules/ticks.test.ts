import assert from "node:assert/strict";
import type { ScheduleTrigger } from "../../../src/topics/scheduleDsl.js";
import {
  localTime,
  nextTicks,
  safeAnchor,
  tickId,
  ticksBetween,
  utcOffsetMs,
} from "../../../src/worker/schedules/ticks.js";

const at = (iso: string): number => Date.parse(iso);
const iso = (list: readonly number[]): string[] => list.map((t) => new Date(t).toISOString());
const cron = (expression: string, timeZone = "UTC"): ScheduleTrigger => ({
  kind: "cron",
  expression,
  timeZone,
});
const every = (everyMs: number, anchorMs = 0): ScheduleTrigger => ({ kind: "every", everyMs, anchorMs });

interface Row {
  readonly name: string;
  readonly trigger: ScheduleTrigger;
  readonly from: string;
  readonly to: string;
  readonly expected: readonly string[];
}

const table: readonly Row[] = [
  {
    name: "5-field hourly cron fires at the top of each hour (from exclusive, to inclusive)",
    trigger: cron("0 * * * *"),
    from: "2025-06-01T10:00:00Z",
    to: "2025-06-01T12:00:00Z",
    expected: ["2025-06-01T11:00:00.000Z", "2025-06-01T12:00:00.000Z"],
  },
  {
    name: "6-field cron fires on seconds",
    trigger: cron("*/20 * * * * *"),
    from: "2025-06-01T00:00:05Z",
    to: "2025-06-01T00:01:00Z",
    expected: ["2025-06-01T00:00:20.000Z", "2025-06-01T00:00:40.000Z", "2025-06-01T00:01:00.000Z"],
  },
  {
    name: "interval schedules are aligned to the epoch",
    trigger: every(5 * 60_000),
    from: "2025-06-01T10:03:00Z",
    to: "2025-06-01T10:15:00Z",
    expected: ["2025-06-01T10:05:00.000Z", "2025-06-01T10:10:00.000Z", "2025-06-01T10:15:00.000Z"],
  },
  {
    name: "interval schedules honour their anchor",
    trigger: every(90_000, at("2025-06-01T00:00:30Z")),
    from: "2025-06-01T00:00:30Z",
    to: "2025-06-01T00:04:00Z",
    expected: ["2025-06-01T00:02:00.000Z", "2025-06-01T00:03:30.000Z"],
  },
  {
    name: "Europe/Berlin spring forward: 02:30 does not exist and fires once at 03:30 CEST",
    trigger: cron("30 2 * * *", "Europe/Berlin"),
    from: "2025-03-29T00:00:00Z",
    to: "2025-04-01T00:00:00Z",
    expected: ["2025-03-29T01:30:00.000Z", "2025-03-30T01:30:00.000Z", "2025-03-31T00:30:00.000Z"],
  },
  {
    name: "Europe/Berlin fall back: a fixed-hour job fires once, in the first 02:30",
    trigger: cron("30 2 * * *", "Europe/Berlin"),
    from: "2025-10-25T00:00:00Z",
    to: "2025-10-28T00:00:00Z",
    expected: ["2025-10-25T00:30:00.000Z", "2025-10-26T00:30:00.000Z", "2025-10-27T01:30:00.000Z"],
  },
  {
    name: "America/New_York: 09:00 local moves from 14:00Z to 13:00Z after spring forward",
    trigger: cron("0 9 * * *", "America/New_York"),
    from: "2025-03-08T00:00:00Z",
    to: "2025-03-10T23:00:00Z",
    expected: ["2025-03-08T14:00:00.000Z", "2025-03-09T13:00:00.000Z", "2025-03-10T13:00:00.000Z"],
  },
  {
    name: "America/New_York spring forward: 02:30 fires once at 03:30 EDT",
    trigger: cron("30 2 * * *", "America/New_York"),
    from: "2025-03-09T00:00:00Z",
    to: "2025-03-10T12:00:00Z",
    expected: ["2025-03-09T07:30:00.000Z", "2025-03-10T06:30:00.000Z"],
  },
  {
    name: "America/New_York fall back: */15 in hour 1 fires in the first pass only",
    trigger: cron("*/15 1 * * *", "America/New_York"),
    from: "2025-11-02T04:00:00Z",
    to: "2025-11-02T12:00:00Z",
    expected: [
      "2025-11-02T05:00:00.000Z",
      "2025-11-02T05:15:00.000Z",
      "2025-11-02T05:30:00.000Z",
      "2025-11-02T05:45:00.000Z",
    ],
  },
];

describe("schedule ticks", () => {
  it("takes the fire times after `from` up to and including `to`: a tick at `from` has fired already", () => {
    const minute = every(60_000);
    assert.deepEqual(ticksBetween(minute, 120_000, 240_000), [180_000, 240_000]);
    assert.deepEqual(ticksBetween(minute, 120_000, 120_000), []);
    assert.deepEqual(
      iso(ticksBetween(cron("0 * * * *"), at("2025-01-01T10:00:00Z"), at("2025-01-01T12:00:00Z"))),
      ["2025-01-01T11:00:00.000Z", "2025-01-01T12:00:00.000Z"],
    );
  });

  it("returns at most `max` ticks, the earliest", () => {
    assert.deepEqual(ticksBetween(every(60_000), 0, 600_000, 3), [60_000, 120_000, 180_000]);
    assert.deepEqual(
      iso(ticksBetween(cron("0 * * * *"), at("2025-01-01T00:00:00Z"), at("2025-01-02T00:00:00Z"), 2)),
      ["2025-01-01T01:00:00.000Z", "2025-01-01T02:00:00.000Z"],
    );
    assert.deepEqual(ticksBetween(every(60_000), 0, 600_000, 0), []);
  });

  for (const row of table) {
    it(row.name, () => {
      assert.deepEqual(iso(ticksBetween(row.trigger, at(row.from), at(row.to))), row.expected);
    });
  }

  it("fires an hourly Berlin job 25 times on the fall-back day and 23 times on the spring-forward day", () => {
    const hourly = cron("0 * * * *", "Europe/Berlin");
    // Local days: 2025-10-26 00:00 CEST = 10-25T22:00Z .. 10-27 00:00 CET = 10-26T23:00Z.
    assert.equal(
      ticksBetween(hourly, at("2025-10-25T22:00:00Z") - 1, at("2025-10-26T23:00:00Z") - 1).length,
      25,
    );
    assert.equal(
      ticksBetween(hourly, at("2025-03-29T23:00:00Z") - 1, at("2025-03-30T22:00:00Z") - 1).length,
      23,
    );
  });

  it("gives every worker the same ticks wherever it starts looking, even inside a repeated hour", () => {
    for (const [expression, timeZone, day] of [
      ["30 2 * * *", "Europe/Berlin", "2025-10-26"],
      ["*/15 1 * * *", "America/New_York", "2025-11-02"],
      ["*/20 2 * * *", "Europe/Berlin", "2025-10-26"],
      ["0 * * * *", "Europe/Berlin", "2025-10-26"],
      ["30 2 * * *", "Europe/Berlin", "2025-03-30"],
    ] as const) {
      const trigger = cron(expression, timeZone);
      const start = at(`${day}T00:00:00Z`) - 12 * 3_600_000;
      const end = start + 36 * 3_600_000;
      const reference = ticksBetween(trigger, start, end);
      for (let from = start; from < end; from += 13 * 60_000) {
        const seen = ticksBetween(trigger, from, end);
        assert.deepEqual(
          iso(seen),
          iso(reference.filter((t) => t > from)),
          `${expression} ${timeZone} from ${new Date(from).toISOString()}`,
        );
      }
    }
  });

  it("reads UTC offsets and local times of a zone", () => {
    assert.equal(utcOffsetMs("Europe/Berlin", at("2025-07-01T00:00:00Z")), 2 * 3_600_000);
    assert.equal(utcOffsetMs("America/New_York", at("2025-01-01T00:00:00Z")), -5 * 3_600_000);
    assert.equal(localTime("Europe/Berlin", at("2025-03-30T01:30:00Z")), "2025-03-30 03:30:00 (+02:00)");
    assert.equal(localTime("Asia/Kolkata", at("2025-03-30T01:30:00Z")), "2025-03-30 07:00:00 (+05:30)");
  });

  it("anchors iteration at least three hours after an offset change", () => {
    const inRepeatedHour = at("2025-10-26T01:30:00Z");
    const anchor = safeAnchor("Europe/Berlin", inRepeatedHour);
    assert.equal(new Date(anchor).toISOString(), "2025-10-25T22:30:00.000Z");
    assert.equal(safeAnchor("UTC", inRepeatedHour), inRepeatedHour);
  });

  it("finds the next ticks of a rare cron (29 February)", () => {
    assert.deepEqual(iso(nextTicks(cron("0 0 29 2 *"), at("2025-01-01T00:00:00Z"), 2)), [
      "2028-02-29T00:00:00.000Z",
      "2032-02-29T00:00:00.000Z",
    ]);
  });

  it("derives tick ids from the name, the fire time in UTC and the fingerprint", () => {
    const id = tickId("hourly-report", at("2025-03-30T01:00:00Z"), "0123456789abcdef");
    assert.equal(id, "sbw-tick:hourly-report:2025-03-30T01:00:00.000Z:01234567");
    assert.equal(tickId("hourly-report", at("2025-03-30T01:00:00Z"), "0123456789abcdef"), id);
    assert.notEqual(tickId("hourly-report", at("2025-03-30T01:00:00Z"), "fedcba9876543210"), id);
    assert.ok(tickId("x".repeat(64), at("2025-03-30T01:00:00Z"), "0123456789abcdef").length <= 128);
  });
});
