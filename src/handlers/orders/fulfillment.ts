/**
 * `orders/fulfillment`: one session per order, events in publish order. The order's state lives in
 * session state; an impossible transition (shipping an unpaid order, paying a cancelled one) is a
 * permanent error, so the event is dead-lettered with reason `InvalidTransition` at once.
 */
import type { z } from "zod";
import type { SessionHandlerContext, SubscriptionHandlers } from "../registry.js";
import type { Topology } from "../../topics/index.js";
import type {
  FulfillmentState,
  OrderCancelled,
  OrderPlaced,
  OrderShipped,
  PaymentCaptured,
} from "../../topics/orders.js";
import { InvalidTransitionError, PermanentError } from "../../worker/errors.js";

export type FulfillmentEvent =
  | { readonly subject: "OrderPlaced"; readonly payload: z.output<typeof OrderPlaced> }
  | { readonly subject: "PaymentCaptured"; readonly payload: z.output<typeof PaymentCaptured> }
  | { readonly subject: "OrderShipped"; readonly payload: z.output<typeof OrderShipped> }
  | { readonly subject: "OrderCancelled"; readonly payload: z.output<typeof OrderCancelled> };

/** The state machine, pure: placed → paid → shipped; placed|paid → cancelled. */
export function transition(
  state: FulfillmentState | undefined,
  event: FulfillmentEvent,
  now: Date,
): FulfillmentState {
  const from = state?.status ?? "none";
  const updatedAt = now.toISOString();
  switch (event.subject) {
    case "OrderPlaced":
      if (state) throw new InvalidTransitionError(from, event.subject);
      return { status: "placed", email: event.payload.email, total: event.payload.total, updatedAt };
    case "PaymentCaptured":
      if (state?.status !== "placed") throw new InvalidTransitionError(from, event.subject);
      if (event.payload.amount !== state.total) {
        throw new PermanentError(
          `payment ${event.payload.amount} does not match order total ${state.total}`,
          {
            code: "PaymentMismatch",
          },
        );
      }
      return { ...state, status: "paid", paidAmount: event.payload.amount, updatedAt };
    case "OrderShipped":
      if (state?.status !== "paid") throw new InvalidTransitionError(from, event.subject);
      return { ...state, status: "shipped", trackingNumber: event.payload.trackingNumber, updatedAt };
    case "OrderCancelled":
      if (state?.status !== "placed" && state?.status !== "paid")
        throw new InvalidTransitionError(from, event.subject);
      return { ...state, status: "cancelled", updatedAt };
  }
}

type Ctx = SessionHandlerContext<Topology, FulfillmentState>;

async function apply(event: FulfillmentEvent, ctx: Ctx): Promise<FulfillmentState> {
  const before = await ctx.session.getState();
  const after = transition(before, event, new Date());
  // Follow-ups first, state last: a crash in between replays the event, and the follow-up's
  // deterministic MessageId lets duplicate detection absorb the second send.
  const orderId = event.payload.orderId;
  if (after.status !== before?.status) {
    const template =
      after.status === "placed"
        ? "order-confirmation"
        : after.status === "shipped"
          ? "shipping-update"
          : after.status === "cancelled"
            ? "order-cancelled"
            : undefined;
    if (template) {
      await ctx.publish("notifications", "EmailRequested", {
        notificationId: `${orderId}:${template}`,
        to: after.email,
        template,
        data: {
          orderId,
          total: after.total,
          ...(after.trackingNumber ? { trackingNumber: after.trackingNumber } : {}),
        },
      });
    }
  }
  await ctx.session.setState(after);
  ctx.log.info({ orderId, from: before?.status ?? "none", to: after.status }, "order state changed");
  return after;
}

export const fulfillmentHandlers: SubscriptionHandlers<Topology, "orders", "fulfillment"> = {
  OrderPlaced: async (payload, ctx) => void (await apply({ subject: "OrderPlaced", payload }, ctx)),
  PaymentCaptured: async (payload, ctx) => void (await apply({ subject: "PaymentCaptured", payload }, ctx)),
  OrderShipped: async (payload, ctx) => void (await apply({ subject: "OrderShipped", payload }, ctx)),
  OrderCancelled: async (payload, ctx) => void (await apply({ subject: "OrderCancelled", payload }, ctx)),
};
