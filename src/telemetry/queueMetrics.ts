/**
 * Queue depth per subscription (active, dead-letter, scheduled, oldest active message age), polled
 * from the administration API into the metrics' gauges. Opt-in (`SBW_QUEUE_METRICS=true`) because
 * it needs the Manage right, and meant for ONE process (one Deployment sets it): every pod asking
 * the administration API every scrape would multiply calls for the same numbers. The gauges keep
 * the last answer (a cache): scrapes never call Azure.
 *
 * The oldest active message's age comes from a peek (Listen right) on plain subscriptions; a
 * session subscription's messages can only be peeked per session, so its age is not reported.
 */
import type { ServiceBusAdministrationClient, ServiceBusClient } from "@azure/service-bus";
import type { Logger } from "pino";
import type { QueueDepth, WorkerMetrics } from "./metrics.js";

export interface QueueTarget {
  /** `topic/subscription` (the metric label). */
  readonly key: string;
  /** Entity names on the broker. */
  readonly topic: string;
  readonly subscription: string;
  readonly requiresSession: boolean;
}

/** Where the numbers come from (a seam: tests pass the emulator's). */
export interface QueueDepthSource {
  /** Gives up when `signal` aborts (the poll's time is up, or the poller closes). */
  depth(target: QueueTarget, signal: AbortSignal): Promise<QueueDepth>;
}

export interface QueueMetricsOptions {
  readonly metrics: Pick<WorkerMetrics, "setQueueDepth">;
  readonly source: QueueDepthSource;
  readonly targets: readonly QueueTarget[];
  /** Default 30 s (the PodMonitor scrapes every 30 s). */
  readonly intervalMs?: number;
  /**
   * How long one poll may take (default: the interval). The administration API is HTTP with no
   * timeout of its own: over a connection a partition killed, a poll without one waited for good,
   * and the gauges froze at their last values without a word.
   */
  readonly timeoutMs?: number;
  readonly log: Logger;
}

export interface QueueMetricsPoller {
  /** Polls every target once now (also what the timer does). */
  poll(): Promise<void>;
  close(): Promise<void>;
}

/** How many messages one peek looks at to find the first active one (scheduled ones come first). */
const PEEK_WINDOW = 32;

/** The administration client for counts, a peek for the oldest active message. */
export function adminQueueSource(
  admin: ServiceBusAdministrationClient,
  client: ServiceBusClient,
  now: () => number = Date.now,
): QueueDepthSource {
  return {
    async depth(target, signal) {
      const runtime = await admin.getSubscriptionRuntimeProperties(target.topic, target.subscription, {
        abortSignal: signal,
      });
      let oldestActiveAgeSeconds: number | undefined;
      if (!target.requiresSession) {
        oldestActiveAgeSeconds = 0;
        if (runtime.activeMessageCount > 0) {
          // A fresh receiver's browse cursor starts at the head of the subscription.
          const receiver = client.createReceiver(target.topic, target.subscription);
          try {
            const peeked = await receiver.peekMessages(PEEK_WINDOW, { abortSignal: signal });
            const oldest = peeked.find((m) => m.state === "active")?.enqueuedTimeUtc;
            oldestActiveAgeSeconds = oldest ? Math.max(0, (now() - oldest.getTime()) / 1000) : undefined;
          } finally {
            await receiver.close();
          }
        }
      }
      return {
        active: runtime.activeMessageCount,
        deadLetter: runtime.deadLetterMessageCount,
        // Subscriptions report no scheduled count of their own (scheduled messages wait on the topic).
        scheduled: (runtime as { scheduledMessageCount?: number }).scheduledMessageCount ?? 0,
        ...(oldestActiveAgeSeconds !== undefined ? { oldestActiveAgeSeconds } : {}),
      };
    },
  };
}

export function startQueueMetrics(options: QueueMetricsOptions): QueueMetricsPoller {
  const { metrics, source, targets, log } = options;
  const intervalMs = options.intervalMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? intervalMs;
  const closing = new AbortController();
  const failing = new Set<string>();
  let running: Promise<void> | undefined;
  let stopped = false;

  const pollOne = async (target: QueueTarget, signal: AbortSignal): Promise<void> => {
    try {
      metrics.setQueueDepth(target.key, await source.depth(target, signal));
      if (failing.delete(target.key)) log.info({ subscription: target.key }, "queue metrics recovered");
    } catch (error) {
      // Reported once per failing streak, not every interval; the gauges keep the last values.
      if (!failing.has(target.key))
        log.warn({ err: error, subscription: target.key }, "queue metrics poll failed");
      failing.add(target.key);
    }
  };
  const poll = (): Promise<void> =>
    (running ??= (() => {
      const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]);
      return Promise.all(targets.map((t) => pollOne(t, signal))).then(() => {
        running = undefined;
      });
    })());

  const timer = setInterval(() => {
    if (!stopped) void poll();
  }, intervalMs);
  timer.unref();
  void poll();

  return {
    poll,
    async close() {
      stopped = true;
      clearInterval(timer);
      closing.abort();
      await running;
    },
  };
}
