import assert from "node:assert/strict";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import {
  attemptOf,
  baseAttempt,
  messageIdText,
  retryCopy,
  retryMessageId,
} from "../../../src/worker/properties.js";

function received(overrides: Partial<ServiceBusReceivedMessage>): ServiceBusReceivedMessage {
  return {
    body: Buffer.from("{}"),
    deliveryCount: 0,
    messageId: "m1",
    applicationProperties: {},
    ...overrides,
  } as ServiceBusReceivedMessage;
}

describe("attempts and retry copies", () => {
  it("counts the copy's starting attempt plus broker redeliveries", () => {
    assert.equal(attemptOf(received({})), 1);
    assert.equal(attemptOf(received({ deliveryCount: 2 })), 3);
    assert.equal(attemptOf(received({ applicationProperties: { "sbw-attempt": 4 }, deliveryCount: 1 })), 5);
    assert.equal(baseAttempt({ "sbw-attempt": "junk" }), 1);
    assert.equal(baseAttempt({ "sbw-attempt": 0 }), 1);
  });

  it("gives the retry copy of a delivery the same MessageId however often it is redelivered", () => {
    const first = retryCopy(received({ deliveryCount: 0 }), "audit", 2, new Date(0));
    const again = retryCopy(received({ deliveryCount: 1 }), "audit", 3, new Date(0));
    assert.equal(first.messageId, again.messageId);
    assert.equal(first.messageId, "m1~audit~retry1");
  });

  it("routes the copy to its subscription only and keeps the root id", () => {
    const at = new Date(1_000);
    const copy = retryCopy(
      received({
        subject: "S",
        sessionId: "s1",
        correlationId: "c",
        contentType: "application/json",
        replyTo: "replies",
        to: "billing",
        applicationProperties: { keep: "me", "sbw-attempt": 2, "sbw-root-message-id": "root" },
      }),
      "audit",
      3,
      at,
    );
    assert.deepEqual(copy.applicationProperties, {
      keep: "me",
      "sbw-attempt": 3,
      "sbw-replay-to": "audit",
      "sbw-root-message-id": "root",
    });
    assert.equal(copy.messageId, "root~audit~retry2");
    assert.equal(copy.subject, "S");
    assert.equal(copy.sessionId, "s1");
    assert.equal(copy.correlationId, "c");
    assert.equal(copy.contentType, "application/json");
    assert.equal(copy.replyTo, "replies");
    assert.equal(copy.to, "billing");
    assert.equal(copy.scheduledEnqueueTimeUtc, at);
  });

  it("leaves out what the original did not carry", () => {
    const copy = retryCopy(received({}), "audit", 2, new Date(0));
    for (const key of ["contentType", "subject", "correlationId", "sessionId", "replyTo", "to"])
      assert.equal(Object.hasOwn(copy, key), false, key);
  });

  it("keeps ids up to 128 characters readable and hashes longer ones", () => {
    const suffix = "~audit~retry1";
    const fits = "x".repeat(128 - suffix.length);
    assert.equal(retryMessageId(fits, "audit", 1), `${fits}${suffix}`);
    assert.match(retryMessageId(`${fits}x`, "audit", 1), /^[0-9a-f]{64}$/);
    assert.match(retryMessageId("x".repeat(200), "audit", 1), /^[0-9a-f]{64}$/);
  });

  it("reads a MessageId of any AMQP type as text", () => {
    assert.equal(messageIdText("m-1"), "m-1");
    assert.equal(messageIdText(undefined), "");
    assert.equal(messageIdText(42), "42");
    assert.equal(messageIdText(Buffer.from([0xab, 0x01])), "ab01");
  });
});
