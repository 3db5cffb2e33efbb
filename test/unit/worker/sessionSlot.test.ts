import assert from "node:assert/strict";
import { ServiceBusError } from "@azure/service-bus";
import {
  ACCEPT_RETRY_MAX_MS,
  acceptRetryDelay,
  enterPhase,
  isNoSessionAvailable,
  newSlot,
  slotsHealth,
  type Slot,
  wedgedSlot,
} from "../../../src/worker/sessionSlot.js";

const limits = { livenessTimeoutMs: 1_000, acceptTimeoutMs: 5_000, idleTimeoutMs: 250, failureQuietMs: 500 };
const now = 100_000;

describe("session slot liveness", () => {
  const slot = (
    phase: Slot["phase"],
    ageMs: number,
    failingForMs?: number,
    lastFailureMsAgo?: number,
  ): Slot => ({
    ...newSlot(now - ageMs),
    phase,
    failingSince: failingForMs === undefined ? undefined : now - failingForMs,
    lastFailureAt: lastFailureMsAgo === undefined ? undefined : now - lastFailureMsAgo,
  });

  const table: { name: string; slot: Slot; wedged: boolean }[] = [
    { name: "accepting within its long-poll + liveness", slot: slot("accepting", 6_000), wedged: false },
    { name: "accepting past its long-poll + liveness", slot: slot("accepting", 6_001), wedged: true },
    { name: "receiving within idle + liveness", slot: slot("receiving", 1_250), wedged: false },
    { name: "receiving past idle + liveness", slot: slot("receiving", 1_251), wedged: true },
    { name: "handling for an hour (no bound)", slot: slot("handling", 3_600_000), wedged: false },
    { name: "in backoff for an hour (no bound)", slot: slot("backoff", 3_600_000), wedged: false },
    { name: "stopped", slot: slot("stopped", 3_600_000), wedged: false },
    {
      name: "failing accepts for an hour, still retrying (an outage: not ready, not wedged)",
      slot: slot("accepting", 10, 3_600_000, 100),
      wedged: false,
    },
    {
      name: "failing, last attempt within liveness + quiet",
      slot: slot("accepting", 10, 3_600_000, 1_500),
      wedged: false,
    },
    {
      name: "failing, no attempt for longer: stopped trying",
      slot: slot("accepting", 10, 3_600_000, 1_501),
      wedged: true,
    },
    { name: "failing since long ago, no attempt recorded", slot: slot("accepting", 10, 1_501), wedged: true },
  ];
  for (const t of table) {
    it(`${t.name}: ${t.wedged ? "wedged" : "live"}`, () => {
      assert.equal(wedgedSlot([t.slot], limits, now) === t.slot, t.wedged);
    });
  }

  it("entering a phase restarts its clock", () => {
    const s = slot("accepting", 60_000);
    enterPhase(s, "receiving", now);
    assert.deepEqual([s.phase, s.since], ["receiving", now]);
    assert.equal(wedgedSlot([s], limits, now), undefined);
  });

  it("names the first wedged slot among several", () => {
    const live = slot("handling", 10);
    const stuck = slot("receiving", 5_000);
    assert.equal(wedgedSlot([live, stuck], limits, now), stuck);
    assert.equal(wedgedSlot([live], limits, now), undefined);
  });

  it("starts accepting, idle", () => {
    assert.deepEqual(newSlot(5), {
      phase: "accepting",
      since: 5,
      failingSince: undefined,
      lastFailureAt: undefined,
      acceptFailures: 0,
      busy: false,
    });
  });
});

describe("session accept: nothing available is not a failure", () => {
  const table: [string, unknown, boolean][] = [
    ["the accept's long-poll ran out", new ServiceBusError("no session", "ServiceTimeout"), true],
    ["every session is locked", new ServiceBusError("locked", "SessionCannotBeLocked"), true],
    ["the entity is gone", new ServiceBusError("gone", "MessagingEntityNotFound"), false],
    ["no rights", new ServiceBusError("denied", "UnauthorizedAccess"), false],
    ["not a Service Bus error", new Error("ServiceTimeout"), false],
  ];
  for (const [name, error, expected] of table)
    it(`${name}: ${expected ? "try again" : "a failure"}`, () =>
      assert.equal(isNoSessionAvailable(error), expected));
});

describe("session slot: the wait after a failed accept", () => {
  const table: { failures: number; baseMs: number; random: number; ms: number }[] = [
    { failures: 1, baseMs: 1_000, random: 0, ms: 500 },
    { failures: 1, baseMs: 1_000, random: 0.999_999, ms: 1_000 },
    { failures: 2, baseMs: 1_000, random: 0, ms: 1_000 },
    { failures: 3, baseMs: 1_000, random: 0.5, ms: 3_000 },
    { failures: 5, baseMs: 1_000, random: 0.999_999, ms: 16_000 },
    { failures: 6, baseMs: 1_000, random: 0.999_999, ms: ACCEPT_RETRY_MAX_MS },
    { failures: 60, baseMs: 1_000, random: 0, ms: ACCEPT_RETRY_MAX_MS / 2 },
    { failures: 3, baseMs: 60_000, random: 0.999_999, ms: 60_000 }, // a base above the cap stays
  ];
  for (const t of table) {
    it(`failure ${t.failures} in a row, base ${t.baseMs} ms, random ${t.random}: ${t.ms} ms`, () => {
      assert.equal(
        acceptRetryDelay(t.failures, t.baseMs, () => t.random),
        t.ms,
      );
    });
  }

  it("never spins: at least half the base delay, whatever the jitter", () => {
    for (let failures = 1; failures < 40; failures += 1)
      assert.ok(acceptRetryDelay(failures, 200, () => 0) >= 100);
  });
});

describe("session slots: the consumer's health", () => {
  const at = (phase: Slot["phase"], fields: Partial<Slot> = {}): Slot => ({
    ...newSlot(now - 10),
    phase,
    ...fields,
  });

  it("is failing, with the earliest failure, while any slot's accepts fail", () => {
    const health = slotsHealth(
      [
        at("handling"),
        at("accepting", { failingSince: now - 300, lastFailureAt: now - 5 }),
        at("accepting", { failingSince: now - 200 }),
      ],
      limits,
      now,
    );
    assert.deepEqual(health, {
      failing: true,
      wedged: false,
      detail: `accepting sessions failing since ${new Date(now - 300).toISOString()}`,
    });
  });

  it("is neither failing nor wedged when every slot makes progress", () => {
    assert.deepEqual(slotsHealth([at("handling"), at("receiving")], limits, now), {
      failing: false,
      wedged: false,
    });
  });

  it("names the wedged slot, and still says whether another one fails", () => {
    const health = slotsHealth(
      [
        at("receiving", { since: now - 5_000 }),
        at("accepting", { failingSince: now - 50, lastFailureAt: now - 50 }),
      ],
      limits,
      now,
    );
    assert.deepEqual([health.failing, health.wedged], [true, true]);
    assert.match(health.detail ?? "", /a session slot has been receiving since/);
  });
});
