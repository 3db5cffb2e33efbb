import assert from "node:assert/strict";
import {
  decideRenewal,
  stallDeadline,
  type RenewalDecision,
} from "../../../src/worker/jobs/renewalPolicy.js";

const base = { startedAt: 0, stallTimeoutMs: 10_000, maxLockRenewalMs: 60_000 };

const table: readonly {
  readonly name: string;
  readonly now: number;
  readonly lastHeartbeatAt: number | undefined;
  readonly expected: RenewalDecision;
}[] = [
  {
    name: "renews a handler that never heartbeats, within maxLockRenewal",
    now: 59_999,
    lastHeartbeatAt: undefined,
    expected: { kind: "renew" },
  },
  {
    name: "stops renewing a silent handler at maxLockRenewal",
    now: 60_000,
    lastHeartbeatAt: undefined,
    expected: { kind: "stop" },
  },
  {
    name: "never calls a handler that never heartbeats stalled",
    now: 30_000,
    lastHeartbeatAt: undefined,
    expected: { kind: "renew" },
  },
  { name: "renews a heartbeating handler", now: 5_000, lastHeartbeatAt: 1_000, expected: { kind: "renew" } },
  {
    name: "renews at exactly stallTimeout of silence",
    now: 11_000,
    lastHeartbeatAt: 1_000,
    expected: { kind: "renew" },
  },
  {
    name: "declares stalled past stallTimeout of silence",
    now: 11_001,
    lastHeartbeatAt: 1_000,
    expected: { kind: "stall", silentMs: 10_001 },
  },
  {
    name: "renews a heartbeating handler past maxLockRenewal (long jobs)",
    now: 600_000,
    lastHeartbeatAt: 595_000,
    expected: { kind: "renew" },
  },
  {
    name: "declares a long job stalled when it goes quiet",
    now: 700_000,
    lastHeartbeatAt: 595_000,
    expected: { kind: "stall", silentMs: 105_000 },
  },
];

describe("jobs: heartbeat-gated renewal policy", () => {
  for (const row of table) {
    it(row.name, () => {
      assert.deepEqual(
        decideRenewal({ ...base, now: row.now, lastHeartbeatAt: row.lastHeartbeatAt }),
        row.expected,
      );
    });
  }

  it("has no stall deadline before the first heartbeat, and one stallTimeout after each", () => {
    assert.equal(stallDeadline({ lastHeartbeatAt: undefined, stallTimeoutMs: 10 }), undefined);
    assert.equal(stallDeadline({ lastHeartbeatAt: 5, stallTimeoutMs: 10 }), 15);
  });
});
