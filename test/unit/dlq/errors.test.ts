/** One-line reasons from what the SDK throws (src/cli/dlq/errors.ts). */
import assert from "node:assert/strict";
import { ServiceBusError } from "@azure/service-bus";
import { setupError } from "../../../src/cli/dlq/errors.js";
import { oneLine } from "../../../src/cli/oneLine.js";

/** What the SDK throws when its own retries run out: every attempt's error, no message. */
const exhausted = (...errors: Error[]): AggregateError => new AggregateError(errors);

describe("dlq: one-line reasons", () => {
  it("folds a multi-line message into one line", () => {
    assert.equal(oneLine(new Error("first\n   second\n")), "first second");
  });

  it("takes the last attempt's message from the SDK's AggregateError", () => {
    const error = exhausted(
      new Error("timed out"),
      new Error("ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5672"),
    );
    assert.equal(oneLine(error), "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5672");
  });

  it("names an error that has no message", () => {
    assert.equal(oneLine(new RangeError("")), "RangeError");
  });

  it("maps an entity-not-found inside the SDK's AggregateError to EntityNotFound", () => {
    const error = setupError(
      exhausted(new ServiceBusError("gone", "MessagingEntityNotFound")),
      "orders/audit",
    );
    assert.deepEqual([error.code, error.message], ["EntityNotFound", "orders/audit: not found"]);
  });

  it("names the last attempt's code for any other broker error", () => {
    const error = setupError(exhausted(new ServiceBusError("busy now", "ServiceBusy")), "orders/audit");
    assert.deepEqual([error.code, error.message], ["Connection", "orders/audit: ServiceBusy: busy now"]);
  });
});
