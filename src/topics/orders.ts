/**
 * Topic `orders`: the life of an order. Session id = order id, so `fulfillment` sees each order's
 * events in publish order; `audit` sees every event, unordered.
 */
import { z } from "zod";
import { defineTopic } from "./dsl.js";

const orderId = z.string().min(1).max(128);
const money = z.number().nonnegative();

export const OrderPlaced = z.object({
  orderId,
  customerId: z.string().min(1),
  email: z.email(),
  items: z.array(z.object({ sku: z.string().min(1), quantity: z.int().positive(), unitPrice: money })).min(1),
  total: money,
  currency: z.string().length(3),
  placedAt: z.iso.datetime(),
});

export const PaymentCaptured = z.object({
  orderId,
  paymentId: z.string().min(1),
  amount: money,
  capturedAt: z.iso.datetime(),
});

export const OrderShipped = z.object({
  orderId,
  carrier: z.string().min(1),
  trackingNumber: z.string().min(1),
  shippedAt: z.iso.datetime(),
});

export const OrderCancelled = z.object({
  orderId,
  reason: z.string().min(1),
  cancelledAt: z.iso.datetime(),
});

/** What `fulfillment` keeps per order in session state. */
export const FulfillmentState = z.object({
  status: z.enum(["placed", "paid", "shipped", "cancelled"]),
  email: z.email(),
  total: money,
  paidAmount: money.optional(),
  trackingNumber: z.string().optional(),
  updatedAt: z.iso.datetime(),
});
export type FulfillmentState = z.output<typeof FulfillmentState>;

export const orders = defineTopic({
  name: "orders",
  duplicateDetection: { windowMs: 5 * 60_000 },
  messages: { OrderPlaced, PaymentCaptured, OrderShipped, OrderCancelled },
  sessionId: (message) => message.payload.orderId,
  // One event of each kind per order: a publisher retrying after a timeout is deduplicated.
  messageId: (message) => `${message.payload.orderId}:${message.subject}`,
  subscriptions: {
    fulfillment: {
      requiresSession: true,
      subjects: ["OrderPlaced", "PaymentCaptured", "OrderShipped", "OrderCancelled"],
      sessionState: FulfillmentState,
      maxDeliveryCount: 10,
      lockDurationMs: 60_000,
      policy: { maxConcurrentSessions: 8, maxAttempts: 5 },
    },
    audit: {
      maxDeliveryCount: 10,
      lockDurationMs: 30_000,
      policy: { concurrency: 32, maxAttempts: 5 },
    },
  },
});
