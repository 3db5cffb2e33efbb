import assert from "node:assert/strict";
import type { CatchUpPolicy, ScheduleTrigger } from "../../../src/topics/scheduleDsl.js";
import { lastTicks, planTicks, type PlanInput } from "../../../src/worker/schedules/plan.js";

const at = (iso: string): number => Date.parse(iso);
const iso = (list: readonly number[]): string[] => list.map((t) => new Date(t).toISOString());
const MIN = 60_000;
const HOUR = 60 * MIN;
const hourly: ScheduleTrigger = { kind: "cron", expression: "0 * * * *", timeZone: "UTC" };
const berlin0230: ScheduleTrigger = { kind: "cron", expression: "30 2 * * *", timeZone: "Europe/Berlin" };

interface Row {
  readonly name: string;
  readonly trigger?: ScheduleTrigger;
  readonly catchUp: CatchUpPolicy;
  readonly now: string;
  readonly horizonMs?: number;
  readonly through: string | undefined;
  readonly maxCatchUpMs?: number;
  readonly future: readonly string[];
  readonly catchUpTicks: readonly string[];
}

const table: readonly Row[] = [
  {
    name: "schedules the ticks within the horizon and catches up nothing for a new schedule",
    catchUp: { all: 5 },
    now: "2025-06-01T10:57:00Z",
    through: undefined,
    future: ["2025-06-01T11:00:00.000Z"],
    catchUpTicks: [],
  },
  {
    name: "schedules nothing when no tick falls within the horizon",
    catchUp: "latest",
    now: "2025-06-01T10:20:00Z",
    through: "2025-06-01T10:22:00Z",
    future: [],
    catchUpTicks: [],
  },
  {
    name: "a tick exactly at now is not future (it was scheduled before)",
    catchUp: "latest",
    now: "2025-06-01T11:00:00Z",
    through: "2025-06-01T11:02:00Z",
    future: [],
    catchUpTicks: [],
  },
  {
    name: "catchUp none drops missed ticks",
    catchUp: "none",
    now: "2025-06-01T13:30:00Z",
    through: "2025-06-01T10:05:00Z",
    future: [],
    catchUpTicks: [],
  },
  {
    name: "catchUp latest sends the most recent missed tick",
    catchUp: "latest",
    now: "2025-06-01T13:30:00Z",
    through: "2025-06-01T10:05:00Z",
    future: [],
    catchUpTicks: ["2025-06-01T13:00:00.000Z"],
  },
  {
    name: "catchUp all sends the last n missed ticks, oldest first",
    catchUp: { all: 2 },
    now: "2025-06-01T13:30:00Z",
    through: "2025-06-01T10:05:00Z",
    future: [],
    catchUpTicks: ["2025-06-01T12:00:00.000Z", "2025-06-01T13:00:00.000Z"],
  },
  {
    name: "catchUp all never sends a tick at or before the watermark",
    catchUp: { all: 10 },
    now: "2025-06-01T13:58:00Z",
    through: "2025-06-01T11:00:00Z",
    future: ["2025-06-01T14:00:00.000Z"],
    catchUpTicks: ["2025-06-01T12:00:00.000Z", "2025-06-01T13:00:00.000Z"],
  },
  {
    name: "catch-up looks back at most maxCatchUpMs",
    catchUp: { all: 100 },
    now: "2025-06-04T00:30:00Z",
    through: "2025-06-01T00:00:00Z",
    maxCatchUpMs: 5 * HOUR,
    future: [],
    catchUpTicks: [
      "2025-06-03T20:00:00.000Z",
      "2025-06-03T21:00:00.000Z",
      "2025-06-03T22:00:00.000Z",
      "2025-06-03T23:00:00.000Z",
      "2025-06-04T00:00:00.000Z",
    ],
  },
  {
    name: "catch-up across fall back runs a fixed-hour tick once (Europe/Berlin)",
    trigger: berlin0230,
    catchUp: { all: 5 },
    now: "2025-10-27T12:00:00Z",
    through: "2025-10-24T12:00:00Z",
    future: [],
    catchUpTicks: ["2025-10-25T00:30:00.000Z", "2025-10-26T00:30:00.000Z", "2025-10-27T01:30:00.000Z"],
  },
  {
    name: "catch-up across spring forward includes the shifted tick (Europe/Berlin)",
    trigger: berlin0230,
    catchUp: { all: 5 },
    now: "2025-03-31T12:00:00Z",
    through: "2025-03-28T12:00:00Z",
    future: [],
    catchUpTicks: ["2025-03-29T01:30:00.000Z", "2025-03-30T01:30:00.000Z", "2025-03-31T00:30:00.000Z"],
  },
  {
    name: "interval schedule: future ticks and latest catch-up",
    trigger: { kind: "every", everyMs: 10 * MIN, anchorMs: 0 },
    catchUp: "latest",
    now: "2025-06-01T10:25:00Z",
    horizonMs: 20 * MIN,
    through: "2025-06-01T09:00:00Z",
    future: ["2025-06-01T10:30:00.000Z", "2025-06-01T10:40:00.000Z"],
    catchUpTicks: ["2025-06-01T10:20:00.000Z"],
  },
];

describe("schedule planner", () => {
  for (const row of table) {
    it(row.name, () => {
      const input: PlanInput = {
        trigger: row.trigger ?? hourly,
        catchUp: row.catchUp,
        now: at(row.now),
        horizonMs: row.horizonMs ?? 5 * MIN,
        through: row.through === undefined ? undefined : at(row.through),
        ...(row.maxCatchUpMs !== undefined ? { maxCatchUpMs: row.maxCatchUpMs } : {}),
      };
      const plan = planTicks(input);
      assert.deepEqual(iso(plan.future), row.future);
      assert.deepEqual(iso(plan.catchUp), row.catchUpTicks);
      assert.equal(plan.through, Math.max(input.now + input.horizonMs, input.through ?? 0));
      assert.equal(plan.gap !== undefined, input.through !== undefined && input.through < input.now);
    });
  }

  it("never moves the watermark back", () => {
    const plan = planTicks({
      trigger: hourly,
      catchUp: "none",
      now: at("2025-06-01T10:00:00Z"),
      horizonMs: 5 * MIN,
      through: at("2025-06-01T11:00:00Z"),
    });
    assert.equal(plan.through, at("2025-06-01T11:00:00Z"));
  });

  it("finds the latest ticks of a dense schedule after a long gap without walking the whole gap", () => {
    const perSecond: ScheduleTrigger = { kind: "cron", expression: "* * * * * *", timeZone: "UTC" };
    const started = performance.now();
    const found = lastTicks(perSecond, at("2025-05-25T00:00:00Z"), at("2025-06-01T00:00:00Z"), 3);
    assert.deepEqual(iso(found), [
      "2025-05-31T23:59:58.000Z",
      "2025-05-31T23:59:59.000Z",
      "2025-06-01T00:00:00.000Z",
    ]);
    assert.ok(performance.now() - started < 1_000);
  });

  it("finds a weekday tick behind a weekend", () => {
    const weekdays: ScheduleTrigger = { kind: "cron", expression: "0 9 * * 1-5", timeZone: "Europe/Berlin" };
    // Monday 2025-06-02 06:00Z; the last tick was Friday 2025-05-30 09:00 CEST = 07:00Z.
    assert.deepEqual(iso(lastTicks(weekdays, at("2025-05-20T00:00:00Z"), at("2025-06-02T06:00:00Z"), 1)), [
      "2025-05-30T07:00:00.000Z",
    ]);
  });

  it("rejects a non-positive horizon", () => {
    assert.throws(
      () => planTicks({ trigger: hourly, catchUp: "none", now: 0, horizonMs: 0, through: undefined }),
      RangeError,
    );
  });
});
