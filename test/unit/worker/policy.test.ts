import assert from "node:assert/strict";
import { decideSettlement, type Outcome, type Settlement } from "../../../src/worker/policy.js";
import {
  DrainTimeoutError,
  InvalidTransitionError,
  PermanentError,
  TransientError,
} from "../../../src/worker/errors.js";
import { CancelledError, LockLostError, StalledError } from "../../../src/worker/jobs/abort.js";

const policy = { maxAttempts: 3, backoff: { baseMs: 100, maxMs: 1_000 } };
const handler = "orders/audit/OrderPlaced";

interface Row {
  readonly name: string;
  readonly outcome: Outcome;
  readonly attempt: number;
  readonly random?: number;
  readonly expected: Settlement["kind"];
  readonly reason?: string;
  readonly delayMs?: number;
}

const table: readonly Row[] = [
  { name: "completes on success", outcome: { kind: "success" }, attempt: 1, expected: "complete" },
  {
    name: "completes on success even at the last attempt",
    outcome: { kind: "success" },
    attempt: 3,
    expected: "complete",
  },
  {
    name: "dead-letters an invalid body at once",
    outcome: { kind: "invalidBody", detail: "orderId: required" },
    attempt: 1,
    expected: "deadLetter",
    reason: "SchemaValidationFailed",
  },
  {
    name: "dead-letters a subject without handler at once",
    outcome: { kind: "noHandler", subject: "Nope" },
    attempt: 1,
    expected: "deadLetter",
    reason: "NoHandler",
  },
  {
    name: "dead-letters a permanent error with its code",
    outcome: { kind: "failed", error: new PermanentError("no") },
    attempt: 1,
    expected: "deadLetter",
    reason: "PermanentError",
  },
  {
    name: "dead-letters a permanent subclass with its own code",
    outcome: { kind: "failed", error: new InvalidTransitionError("none", "OrderShipped") },
    attempt: 2,
    expected: "deadLetter",
    reason: "InvalidTransition",
  },
  {
    name: "retries an unknown error with full jitter (attempt 1: [0,100))",
    outcome: { kind: "failed", error: new Error("boom") },
    attempt: 1,
    random: 0.5,
    expected: "retry",
    delayMs: 50,
  },
  {
    name: "retries a transient error, ceiling doubling (attempt 2: [0,200))",
    outcome: { kind: "failed", error: new TransientError("busy") },
    attempt: 2,
    random: 0.999,
    expected: "retry",
    delayMs: 199,
  },
  {
    name: "honours retryAfterMs above the jittered delay",
    outcome: { kind: "failed", error: new TransientError("429", { retryAfterMs: 700 }) },
    attempt: 1,
    random: 0,
    expected: "retry",
    delayMs: 700,
  },
  {
    name: "caps retryAfterMs at the backoff maximum",
    outcome: { kind: "failed", error: new TransientError("429", { retryAfterMs: 50_000 }) },
    attempt: 1,
    random: 0,
    expected: "retry",
    delayMs: 1_000,
  },
  {
    name: "dead-letters MaxAttemptsExceeded at maxAttempts",
    outcome: { kind: "failed", error: new Error("boom") },
    attempt: 3,
    expected: "deadLetter",
    reason: "MaxAttemptsExceeded",
  },
  {
    name: "dead-letters MaxAttemptsExceeded beyond maxAttempts (redeliveries counted)",
    outcome: { kind: "failed", error: "a string" },
    attempt: 7,
    expected: "deadLetter",
    reason: "MaxAttemptsExceeded",
  },
  {
    name: "a permanent error wins over the attempt count",
    outcome: { kind: "failed", error: new PermanentError("x", { code: "Refused" }) },
    attempt: 9,
    expected: "deadLetter",
    reason: "Refused",
  },
  {
    name: "abandons an interrupted delivery",
    outcome: { kind: "interrupted" },
    attempt: 1,
    expected: "abandon",
  },
  {
    name: "abandons an interrupted delivery at the last attempt",
    outcome: { kind: "interrupted" },
    attempt: 3,
    expected: "abandon",
  },
  {
    name: "abandons a stalled handler (it is retried)",
    outcome: { kind: "interrupted", reason: new StalledError(61_000) },
    attempt: 1,
    expected: "abandon",
  },
  {
    name: "abandons after a lost claim",
    outcome: { kind: "interrupted", reason: new LockLostError("claim") },
    attempt: 1,
    expected: "abandon",
  },
  {
    name: "abandons on the drain timeout",
    outcome: { kind: "interrupted", reason: new DrainTimeoutError() },
    attempt: 1,
    expected: "abandon",
  },
  {
    name: "dead-letters a cancelled job as Cancelled",
    outcome: { kind: "interrupted", reason: new CancelledError("user asked") },
    attempt: 1,
    expected: "deadLetter",
    reason: "Cancelled",
  },
];

describe("settlement policy", () => {
  for (const row of table) {
    it(row.name, () => {
      const s = decideSettlement({
        outcome: row.outcome,
        attempt: row.attempt,
        handler,
        policy,
        random: () => row.random ?? 0.5,
      });
      assert.equal(s.kind, row.expected);
      if (s.kind === "deadLetter") {
        assert.equal(s.reason, row.reason);
        const description = JSON.parse(s.description) as {
          handler: string;
          attempt: number;
          error: { class: string };
        };
        assert.equal(description.handler, handler);
        assert.equal(description.attempt, row.attempt);
        assert.equal(typeof description.error.class, "string");
      }
      if (s.kind === "retry") {
        assert.equal(s.delayMs, row.delayMs);
        assert.equal(s.nextAttempt, row.attempt + 1);
      }
    });
  }

  it("describes the error class, code and message as JSON", () => {
    const s = decideSettlement({
      outcome: { kind: "failed", error: new InvalidTransitionError("placed", "OrderShipped") },
      attempt: 1,
      handler,
      policy,
    });
    assert.equal(s.kind, "deadLetter");
    assert.deepEqual(JSON.parse((s as { description: string }).description), {
      handler,
      error: {
        class: "InvalidTransitionError",
        code: "InvalidTransition",
        message: "cannot apply OrderShipped in state placed",
      },
      attempt: 1,
    });
  });

  it("truncates long error messages in the description", () => {
    const s = decideSettlement({
      outcome: { kind: "failed", error: new PermanentError("x".repeat(5000)) },
      attempt: 1,
      handler,
      policy,
    });
    assert.ok((s as { description: string }).description.length < 1200);
  });

  it("keeps a message of up to 1,000 characters whole and cuts a longer one there", () => {
    const messageOf = (length: number): string => {
      const s = decideSettlement({
        outcome: { kind: "failed", error: new PermanentError("x".repeat(length)) },
        attempt: 1,
        handler,
        policy,
      });
      assert.equal(s.kind, "deadLetter");
      return (JSON.parse((s as { description: string }).description) as { error: { message: string } }).error
        .message;
    };
    assert.equal(messageOf(1_000), "x".repeat(1_000));
    assert.equal(messageOf(1_001), `${"x".repeat(1_000)}…`);
  });
});
