import type { ServiceBusClient } from "@azure/service-bus";

/**
 * Readiness for a session subscription: an idle one may see no accept answer for a whole
 * long-poll, so reachability is checked once with a peek at its dead-letter queue (readable
 * without a session lock; it also proves the subscription exists and the credentials work).
 * Resolves true when reachable; a failure is passed to `onError` unless `signal` aborted.
 */
export async function probeSubscription(
  client: ServiceBusClient,
  topic: string,
  subscription: string,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): Promise<boolean> {
  const dlq = client.createReceiver(topic, subscription, { subQueueType: "deadLetter" });
  try {
    await dlq.peekMessages(1, { abortSignal: signal });
    return true;
  } catch (error) {
    if (!signal.aborted) onError(error);
    return false;
  } finally {
    await dlq.close().catch(() => {});
  }
}
