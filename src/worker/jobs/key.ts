/**
 * The idempotency key of a message: its `idempotency-key` application property (set by a
 * publisher that may send the same request twice under different MessageIds), else its root
 * MessageId (`sbw-root-message-id`, so a retry copy or a wait copy is the same job as the message
 * it copies), else its MessageId.
 */
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import { rootMessageId } from "../properties.js";

export const IDEMPOTENCY_KEY_PROPERTY = "idempotency-key";

export function idempotencyKeyOf(
  message: Pick<ServiceBusReceivedMessage, "applicationProperties" | "messageId">,
): string {
  const explicit = message.applicationProperties?.[IDEMPOTENCY_KEY_PROPERTY];
  if (typeof explicit === "string" && explicit.length > 0) return explicit;
  if (typeof explicit === "number") return String(explicit);
  return rootMessageId(message);
}
