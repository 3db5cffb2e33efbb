/** How the publisher classifies what the SDK throws (src/publisher/errors.ts), as a table. */
import assert from "node:assert/strict";
import { ServiceBusError } from "@azure/service-bus";
import { isTransientSendError, toPublishError } from "../../../src/publisher/errors.js";

/** As the SDK translates them: `retryable` set by code (the constructor alone leaves it true). */
function sbError(code: ServiceBusError["code"], message: string = code): ServiceBusError {
  const retryable = code === "ServiceBusy" || code === "ServiceTimeout";
  return Object.assign(new ServiceBusError(message, code), { retryable });
}

/** What core-amqp makes of a refused connection: the system error's fields, code GeneralError. */
function refused(): Error {
  return Object.assign(new Error("ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5672"), {
    name: "MessagingError",
    code: "GeneralError",
    syscall: "connect",
    errno: -111,
    retryable: false,
  });
}

describe("publisher: classifying send errors", () => {
  const cases: [string, unknown, boolean, string][] = [
    ["a busy namespace", sbError("ServiceBusy"), true, "Transient"],
    ["a timeout", sbError("ServiceTimeout"), true, "Transient"],
    ["a refused connection", refused(), true, "Transient"],
    ["a Node socket error", Object.assign(new Error("reset"), { code: "ECONNRESET" }), true, "Transient"],
    [
      "the SDK's retries exhausted: a timeout, then a refused connection",
      new AggregateError([sbError("ServiceTimeout"), refused()]),
      true,
      "Transient",
    ],
    [
      "the SDK's retries exhausted on permanent errors only",
      new AggregateError([sbError("MessagingEntityNotFound")]),
      false,
      "EntityNotFound",
    ],
    ["a message too large", sbError("MessageSizeExceeded"), false, "MessageTooLarge"],
    ["no Send right", sbError("UnauthorizedAccess"), false, "Unauthorized"],
    ["anything else", new Error("boom"), false, "SendFailed"],
  ];
  for (const [what, error, transient, code] of cases) {
    it(`${what}: ${transient ? "transient" : "not transient"}, ${code}`, () => {
      assert.equal(isTransientSendError(error), transient);
      assert.equal(toPublishError(error, "orders", 3).code, code);
    });
  }

  it("says why from the last attempt when the SDK gives up with an AggregateError", () => {
    const error = toPublishError(
      new AggregateError([sbError("ServiceTimeout", "timed out"), refused()]),
      "orders",
      3,
    );
    assert.equal(
      error.message,
      "orders: gave up after 3 attempts: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5672",
    );
    assert.equal(error.attempts, 3);
  });
});
