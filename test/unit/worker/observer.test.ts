import assert from "node:assert/strict";
import { eventWith, type DeliveryEvent } from "../../../src/worker/observer.js";

describe("observer events", () => {
  const event: DeliveryEvent = {
    topic: "orders",
    subscription: "fulfillment",
    messageId: "m1",
    sessionId: "customer-7",
    subject: "OrderPlaced",
    attempt: 1,
    deliveryCount: 0,
    enqueuedTimeUtc: new Date(0),
    inPlaceRetry: false,
  };

  it("eventWith copies every field of the event and sets the attempt and the in-place flag", () => {
    const next = eventWith(event, 3, true);
    assert.deepEqual(next, { ...event, attempt: 3, inPlaceRetry: true });
    assert.notEqual(next, event);
    assert.equal(event.attempt, 1, "the original event is left as it was");
  });

  it("eventWith keeps an absent enqueued time absent in value", () => {
    const { enqueuedTimeUtc: _, ...withoutTime } = event;
    assert.equal(eventWith(withoutTime, 2, true).enqueuedTimeUtc, undefined);
  });
});
