/** `orders/audit`: every order event, unordered, into an append-only audit sink (the log by default). */
import type { HandlerContext, SubscriptionHandlers } from "../registry.js";
import type { Topology } from "../../topics/index.js";

export interface AuditRecord {
  readonly subject: string;
  readonly orderId: string;
  readonly messageId: string;
  readonly enqueuedTimeUtc: string | undefined;
}

/** Where audit records go; must be idempotent per `messageId` (delivery is at least once). */
export type AuditSink = (record: AuditRecord, ctx: HandlerContext) => Promise<void>;

export const logAuditSink: AuditSink = async (record, ctx) => {
  ctx.log.info({ audit: record }, "audited");
  return Promise.resolve();
};

export function auditHandlers(
  sink: AuditSink = logAuditSink,
): SubscriptionHandlers<Topology, "orders", "audit"> {
  const audit = async (subject: string, orderId: string, ctx: HandlerContext<Topology>): Promise<void> =>
    sink(
      {
        subject,
        orderId,
        messageId: ctx.message.messageId,
        enqueuedTimeUtc: ctx.message.enqueuedTimeUtc?.toISOString(),
      },
      ctx,
    );
  return {
    OrderPlaced: (p, ctx) => audit("OrderPlaced", p.orderId, ctx),
    PaymentCaptured: (p, ctx) => audit("PaymentCaptured", p.orderId, ctx),
    OrderShipped: (p, ctx) => audit("OrderShipped", p.orderId, ctx),
    OrderCancelled: (p, ctx) => audit("OrderCancelled", p.orderId, ctx),
  };
}
