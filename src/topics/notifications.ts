/** Topic `notifications`: outgoing e-mail, rendered from a template and sent by a transport. */
import { z } from "zod";
import { defineTopic } from "./dsl.js";

export const EmailRequested = z.object({
  /** Business key: the same notification requested twice is sent once (duplicate detection). */
  notificationId: z.string().min(1).max(100),
  to: z.email(),
  template: z.enum(["order-confirmation", "shipping-update", "order-cancelled", "report-ready"]),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

export const notifications = defineTopic({
  name: "notifications",
  duplicateDetection: { windowMs: 5 * 60_000 },
  messages: { EmailRequested },
  messageId: (message) => `email:${message.payload.notificationId}`,
  subscriptions: {
    email: {
      subjects: ["EmailRequested"],
      maxDeliveryCount: 10,
      lockDurationMs: 60_000,
      policy: { concurrency: 8, maxAttempts: 6, backoff: { baseMs: 2_000, maxMs: 120_000 } },
    },
  },
});
