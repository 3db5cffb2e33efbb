/**
 * `sbworker/publisher`: typed publishing for services that put work on the bus.
 *
 * ```ts
 * import { createPublisher } from "sbworker/publisher";
 * const publisher = createPublisher({ connection: process.env.SERVICEBUS_CONNECTION_STRING! });
 * await publisher.publish("orders", "OrderPlaced", order, { idempotencyKey: requestId });
 * await publisher.close();
 * ```
 *
 * `publish(topic, subject, payload, options?)` is typed by the topology map (src/topics) and
 * validated at run time; the MessageId is deterministic (./message.ts), transient failures are
 * retried a bounded number of times (./retry.ts), errors carry a `code` (./errors.ts), and every
 * message carries the publish span's trace context (src/telemetry).
 */
export { createPublisher } from "./publisher.js";
export type {
  BatchPublisher,
  Published,
  Publisher,
  PublisherConnection,
  PublisherOptions,
  PublishItem,
} from "./publisher.js";
export { deriveMessageId, prepareMessage } from "./message.js";
export type { PreparedMessage, PropertyValue, PublishOptions } from "./message.js";
export { PublishError, isPublishError, isTransientSendError } from "./errors.js";
export type { PublishErrorCode, PublishErrorDetails } from "./errors.js";
export { DEFAULT_RETRY, retryDelay } from "./retry.js";
export type { RetryPolicy } from "./retry.js";
