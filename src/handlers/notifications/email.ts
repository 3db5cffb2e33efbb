/** `notifications/email`: renders a template and sends it through the pluggable transport. */
import type { SubscriptionHandlers } from "../registry.js";
import type { Topology } from "../../topics/index.js";
import type { EmailRequested } from "../../topics/notifications.js";
import { PermanentError } from "../../worker/errors.js";
import type { Email, EmailTransport } from "./transport.js";
import type { z } from "zod";

type Request = z.output<typeof EmailRequested>;
type Data = Request["data"];

const templates: Record<Request["template"], (data: Data) => { subject: string; text: string }> = {
  "order-confirmation": (d) => ({
    subject: `Order ${req(d, "orderId")} confirmed`,
    text: `Thank you for your order ${req(d, "orderId")} (total ${req(d, "total")}).`,
  }),
  "shipping-update": (d) => ({
    subject: `Order ${req(d, "orderId")} shipped`,
    text: `Your order ${req(d, "orderId")} is on its way; tracking number ${req(d, "trackingNumber")}.`,
  }),
  "order-cancelled": (d) => ({
    subject: `Order ${req(d, "orderId")} cancelled`,
    text: `Your order ${req(d, "orderId")} was cancelled.`,
  }),
  "report-ready": (d) => ({
    subject: `Report ${req(d, "reportId")} is ready`,
    text: `Your report ${req(d, "reportId")} (${req(d, "rows")} rows) is ready: ${req(d, "location")}.`,
  }),
};

/** A template variable the data lacks is a permanent error: retrying cannot fix the message. */
function req(data: Data, key: string): string {
  const value = data[key];
  if (value === undefined)
    throw new PermanentError(`template variable "${key}" missing`, { code: "TemplateDataMissing" });
  return String(value);
}

export function render(request: Request, from: string): Email {
  const { subject, text } = templates[request.template](request.data);
  return { id: request.notificationId, to: request.to, from, subject, text };
}

export function emailHandlers(
  transport: EmailTransport,
  from = "no-reply@sbworker.local",
): SubscriptionHandlers<Topology, "notifications", "email"> {
  return {
    EmailRequested: async (payload, ctx) => {
      const email = render(payload, from);
      await transport.send(email, ctx.signal);
      ctx.log.info({ notificationId: payload.notificationId, template: payload.template }, "email sent");
    },
  };
}
