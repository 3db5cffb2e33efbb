import assert from "node:assert/strict";
import { transition, type FulfillmentEvent } from "../../../src/handlers/orders/fulfillment.js";
import { isInvalidTransitionError, isPermanentError } from "../../../src/worker/errors.js";
import type { FulfillmentState } from "../../../src/topics/orders.js";

const now = new Date("2025-01-01T00:00:00Z");
const at = now.toISOString();
const placed: FulfillmentEvent = {
  subject: "OrderPlaced",
  payload: {
    orderId: "o1",
    customerId: "c1",
    email: "a@example.com",
    items: [{ sku: "A", quantity: 1, unitPrice: 10 }],
    total: 10,
    currency: "EUR",
    placedAt: at,
  },
};
const paid: FulfillmentEvent = {
  subject: "PaymentCaptured",
  payload: { orderId: "o1", paymentId: "p", amount: 10, capturedAt: at },
};
const shipped: FulfillmentEvent = {
  subject: "OrderShipped",
  payload: { orderId: "o1", carrier: "dhl", trackingNumber: "T1", shippedAt: at },
};
const cancelled: FulfillmentEvent = {
  subject: "OrderCancelled",
  payload: { orderId: "o1", reason: "r", cancelledAt: at },
};

function run(events: FulfillmentEvent[]): FulfillmentState | undefined {
  return events.reduce<FulfillmentState | undefined>((s, e) => transition(s, e, now), undefined);
}

describe("fulfillment state machine", () => {
  it("walks placed → paid → shipped", () => {
    assert.deepEqual(run([placed, paid, shipped]), {
      status: "shipped",
      email: "a@example.com",
      total: 10,
      paidAmount: 10,
      trackingNumber: "T1",
      updatedAt: at,
    });
  });

  it("cancels from placed or paid", () => {
    assert.equal(run([placed, cancelled])?.status, "cancelled");
    assert.equal(run([placed, paid, cancelled])?.status, "cancelled");
  });

  const impossible: [string, FulfillmentEvent[]][] = [
    ["ships an unpaid order", [placed, shipped]],
    ["pays an order never placed", [paid]],
    ["places an order twice", [placed, placed]],
    ["cancels a shipped order", [placed, paid, shipped, cancelled]],
    ["pays a cancelled order", [placed, cancelled, paid]],
  ];
  for (const [name, events] of impossible) {
    it(`rejects as a permanent InvalidTransition: ${name}`, () => {
      assert.throws(
        () => run(events),
        (e: unknown) => isInvalidTransitionError(e) && isPermanentError(e),
      );
    });
  }

  it("rejects a payment that does not match the total as PaymentMismatch", () => {
    const wrong: FulfillmentEvent = { ...paid, payload: { ...paid.payload, amount: 9 } };
    assert.throws(
      () => run([placed, wrong]),
      (e: unknown) => isPermanentError(e) && e.code === "PaymentMismatch",
    );
  });
});
