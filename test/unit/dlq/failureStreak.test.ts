import assert from "node:assert/strict";
import { FailureStreak, stoppedLine } from "../../../src/cli/dlq/failureStreak.js";
import type { OutcomeStatus } from "../../../src/cli/dlq/outcome.js";

const run = (limit: number, statuses: OutcomeStatus[]): FailureStreak => {
  const streak = new FailureStreak(limit);
  statuses.forEach((status, i) => streak.record({ status, error: `e${i}` }));
  return streak;
};

describe("dlq: FailureStreak (--stop-after-failures)", () => {
  const cases: [string, number, OutcomeStatus[], { failures: number; lastError: string } | undefined][] = [
    ["stops at the limit", 3, ["failed", "failed", "failed"], { failures: 3, lastError: "e2" }],
    ["a success resets the count", 3, ["failed", "failed", "replayed", "failed", "failed"], undefined],
    ["keeps the first stop", 2, ["failed", "failed", "failed", "replayed"], { failures: 2, lastError: "e1" }],
    ["0 never stops", 0, Array<OutcomeStatus>(50).fill("failed"), undefined],
    ["other statuses reset too", 2, ["failed", "interrupted", "failed"], undefined],
  ];
  for (const [what, limit, statuses, expected] of cases) {
    it(what, () => assert.deepEqual(run(limit, statuses).stopped, expected));
  }

  it("gives the reason for what it did not start, and the closing line", () => {
    assert.equal(run(1, []).reason("not sent"), undefined);
    const streak = run(1, ["failed"]);
    assert.equal(streak.reason("not sent"), "not sent: stopped after 1 failures in a row");
    assert.equal(
      stoppedLine(streak.stopped!, "the rest was not sent"),
      "stopped after 1 failures in a row (last: e0); the rest was not sent\n",
    );
  });
});
