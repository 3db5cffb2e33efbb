import assert from "node:assert/strict";
import type { ServiceBusMessage } from "@azure/service-bus";
import { topology } from "../../../src/topics/index.js";
import { defineSchedule, describeTrigger, scheduleList, schedules } from "../../../src/topics/schedules.js";
import { readTick, tickMessage, type ToMessage } from "../../../src/worker/schedules/message.js";

const base = {
  name: "nightly",
  cron: "0 3 * * *",
  timeZone: "Europe/Berlin",
  topic: "reports",
  subject: "ReportRequested",
  payload: { reportId: "nightly", kind: "sales", rows: 10 },
  catchUp: "latest",
  overlap: false,
} as const;

describe("schedule definitions", () => {
  it("normalizes a cron trigger and fingerprints the definition", () => {
    const s = defineSchedule(topology, { ...base, cron: " 0  3 * * * " });
    assert.deepEqual(s.trigger, { kind: "cron", expression: "0 3 * * *", timeZone: "Europe/Berlin" });
    assert.match(s.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(defineSchedule(topology, base).fingerprint, s.fingerprint);
  });

  for (const [what, change] of [
    ["the cron expression", { cron: "0 4 * * *" }],
    ["the time zone", { timeZone: "America/New_York" }],
    ["the payload", { payload: { reportId: "nightly", kind: "sales", rows: 11 } }],
    ["the version", { version: 2 }],
    ["the target subscription", { subscription: "generate" }],
  ] as const) {
    it(`changes the fingerprint when ${what} changes`, () => {
      assert.notEqual(
        defineSchedule(topology, { ...base, ...change }).fingerprint,
        defineSchedule(topology, base).fingerprint,
      );
    });
  }

  it("ignores payload key order and overlap/catch-up settings in the fingerprint", () => {
    const reordered = defineSchedule(topology, {
      ...base,
      payload: { rows: 10, kind: "sales", reportId: "nightly" },
      overlap: true,
      catchUp: "none",
    });
    assert.equal(reordered.fingerprint, defineSchedule(topology, base).fingerprint);
  });

  it("accepts interval schedules with an anchor", () => {
    const { cron: _cron, ...rest } = base;
    const s = defineSchedule(topology, { ...rest, every: 90_000, anchor: new Date("2025-01-01T00:00:30Z") });
    assert.deepEqual(s.trigger, {
      kind: "every",
      everyMs: 90_000,
      anchorMs: Date.parse("2025-01-01T00:00:30Z"),
    });
    assert.equal(describeTrigger(s.trigger), "every 90s");
  });

  for (const [what, change, message] of [
    ["a bad cron expression", { cron: "61 * * * *" }, /invalid cron/],
    ["a cron with 7 fields", { cron: "0 0 0 * * * *" }, /5 fields/],
    ["an unknown time zone", { timeZone: "Mars/Olympus" }, /unknown time zone/],
    ["an unknown subject", { subject: "Nope" }, /no subject "Nope"/],
    ["an unknown topic", { topic: "nope" }, /unknown topic/],
    ["a bad name", { name: "has space" }, /schedule name/],
    ["catchUp all below 1", { catchUp: { all: 0 } }, /catchUp/],
    ["an unknown subscription", { subscription: "nope" }, /unknown subscription/],
  ] as const) {
    it(`rejects ${what}`, () => {
      assert.throws(() => defineSchedule(topology, { ...base, ...change } as typeof base), message);
    });
  }

  it("rejects intervals below one second", () => {
    const { cron: _cron, ...rest } = base;
    assert.throws(() => defineSchedule(topology, { ...rest, every: 500 }), /every must be/);
  });

  it("rejects two schedules with the same name", () => {
    const s = defineSchedule(topology, base);
    assert.throws(() => scheduleList([s, s]), /declared twice/);
  });

  it("declares the hourly reference report, with a report id derived from the tick", () => {
    const [hourly] = schedules;
    assert.equal(hourly?.name, "hourly-sales-report");
    assert.deepEqual(hourly?.trigger, { kind: "cron", expression: "0 * * * *", timeZone: "UTC" });
    const payload = hourly?.payload({
      schedule: "hourly-sales-report",
      at: new Date("2025-03-30T01:00:00Z"),
      iso: "2025-03-30T01:00:00.000Z",
      id: "x",
    });
    assert.deepEqual(payload, { reportId: "hourly-sales-20250330T0100Z", kind: "sales", rows: 1000 });
    assert.ok(topology.reports.messages.ReportRequested.safeParse(payload).success);
  });
});

describe("tick messages", () => {
  const calls: unknown[][] = [];
  const toMessage: ToMessage = (topic, subject, payload, options) => {
    calls.push([topic, subject, payload]);
    return {
      body: payload,
      subject,
      messageId: options.messageId,
      applicationProperties: { ...options.applicationProperties },
    };
  };

  it("carries the tick id as MessageId and idempotency key, and names schedule, tick and fingerprint", () => {
    const s = defineSchedule(topology, { ...base, subscription: "generate" });
    const at = Date.parse("2025-03-30T01:00:00Z");
    const m: ServiceBusMessage = tickMessage(s, at, toMessage);
    const id = `sbw-tick:nightly:2025-03-30T01:00:00.000Z:${s.fingerprint.slice(0, 8)}`;
    assert.equal(m.messageId, id);
    assert.deepEqual(m.applicationProperties, {
      "idempotency-key": id,
      "sbw-schedule": "nightly",
      "sbw-tick": "2025-03-30T01:00:00.000Z",
      "sbw-schedule-fingerprint": s.fingerprint,
      "sbw-replay-to": "generate",
    });
    assert.deepEqual(calls.at(-1), ["reports", "ReportRequested", base.payload]);
    assert.deepEqual(readTick(m.applicationProperties ?? {}), {
      name: "nightly",
      at,
      iso: "2025-03-30T01:00:00.000Z",
      fingerprint: s.fingerprint,
    });
  });

  it("reads nothing from a message that is not a tick", () => {
    assert.equal(readTick({ "idempotency-key": "x" }), undefined);
    assert.equal(
      readTick({ "sbw-schedule": "a", "sbw-tick": "not a date", "sbw-schedule-fingerprint": "f" }),
      undefined,
    );
  });
});
