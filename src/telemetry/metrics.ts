/**
 * Worker metrics in Prometheus text format (`prom-client`), under the names the alert rules query
 * (src/deploy/metric-names.ts). A worker observer records them; `/metrics` on the health server
 * renders them. Each worker has a registry of its own (no process-global state).
 *
 * Labels: `subscription` is the `topic/subscription` key; `outcome` one of `OUTCOMES`; `reason` the
 * dead-letter reason. How outcomes are counted:
 * - every settlement the broker heard counts once in `messages_processed_total`, a session's
 *   in-place retry too (one per handler attempt, as plain subscriptions count one per copy);
 * - a delivery deferred by the ledger (its key is held elsewhere; the handler did not run) is not
 *   processed: it is not counted;
 * - a delivery whose lock was lost is not settled: it shows in `lock_lost_total` instead.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { BucketHistogram, type Series } from "./bucketHistogram.js";
import { bySubscription } from "./bySubscription.js";
import { LABEL, METRIC, type Outcome as OutcomeLabel } from "../deploy/metric-names.js";
import type { DeliveryEvent, WorkerObserver } from "../worker/observer.js";
import type { Settlement } from "../worker/policy.js";

const SECONDS_FAST = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600,
];
const SECONDS_QUEUE = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 86_400];
const SECONDS_ACCEPT = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The `outcome` label of a settlement. */
export function outcomeLabel(settlement: Settlement): OutcomeLabel {
  switch (settlement.kind) {
    case "complete":
      return "completed";
    case "retry":
      return "retried";
    case "deadLetter":
      return "dead_lettered";
    case "abandon":
      return "abandoned";
  }
}

const keyOf = (e: Pick<DeliveryEvent, "topic" | "subscription">): string => `${e.topic}/${e.subscription}`;

/**
 * What the per-message hooks touch, per subscription (./bySubscription.ts): plain numbers and
 * histogram series. The counter and the gauge read them when scraped (their `collect`), so a
 * message costs no label hashing.
 */
interface SubscriptionState {
  readonly labels: { readonly subscription: string };
  inflight: number;
  readonly queueWait: Series;
  readonly outcomes: Map<OutcomeLabel, OutcomeState>;
}

interface OutcomeState {
  readonly labels: { readonly subscription: string; readonly outcome: OutcomeLabel };
  /** Settlements not yet added to the counter (it is brought up to date when scraped). */
  unreported: number;
  readonly duration: Series;
}

export interface QueueDepth {
  readonly active: number;
  readonly deadLetter: number;
  readonly scheduled: number;
  /** Age of the oldest active message, seconds (undefined: not known, e.g. a session subscription). */
  readonly oldestActiveAgeSeconds?: number;
}

export interface WorkerMetrics {
  readonly registry: Registry;
  /** Records worker events; pass it in `startWorker({ observers })`. */
  readonly observer: WorkerObserver;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
  /** Sets the queue-depth gauges of one subscription (./queueMetrics.ts). */
  setQueueDepth(subscription: string, depth: QueueDepth): void;
}

export interface WorkerMetricsOptions {
  /** Also export Node's process metrics (CPU, memory, event-loop lag, GC) under `sbworker_process_*`. */
  readonly processMetrics?: boolean;
  /** Static labels on every series (e.g. `{ pod }`); Prometheus usually adds these itself. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly now?: () => number;
}

export function createWorkerMetrics(options: WorkerMetricsOptions = {}): WorkerMetrics {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: "sbworker_" });
  const now = options.now ?? Date.now;
  const sub = [LABEL.subscription];
  const registers = [registry];

  const states: SubscriptionState[] = [];
  new Counter({
    name: METRIC.messagesProcessed,
    help: "Deliveries the worker finished, by how they were settled.",
    labelNames: [LABEL.subscription, LABEL.outcome],
    registers,
    collect() {
      for (const state of states)
        for (const o of state.outcomes.values()) {
          if (o.unreported > 0) this.inc(o.labels, o.unreported);
          o.unreported = 0;
        }
    },
  });
  const duration = new BucketHistogram(
    METRIC.processingDuration,
    "Delivery received to settlement, seconds.",
    SECONDS_FAST,
    registry,
  );
  const inQueue = new BucketHistogram(
    METRIC.timeInQueue,
    "Enqueued time to handler start, seconds.",
    SECONDS_QUEUE,
    registry,
  );
  new Gauge({
    name: METRIC.inflightHandlers,
    help: "Handlers running now.",
    labelNames: sub,
    registers,
    collect() {
      for (const state of states) this.set(state.labels, state.inflight);
    },
  });
  // Most series are per subscription only.
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: sub, registers });
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: sub, registers });
  const retries = counter(METRIC.retries, "Retries scheduled after a transient failure.");
  const deadLetters = new Counter({
    name: METRIC.deadLetters,
    help: "Messages this worker moved to the dead-letter queue, by reason.",
    labelNames: [LABEL.subscription, LABEL.reason],
    registers,
  });
  const renewals = counter(METRIC.lockRenewals, "Successful message or session lock renewals.");
  const lost = counter(METRIC.lockLost, "Locks lost while a handler still ran.");
  const stalled = counter(METRIC.stalled, "Jobs aborted because they stopped heartbeating.");
  const receiveErrors = counter(METRIC.receiveErrors, "Failed receives and session accepts.");
  const ledgerUnavailable = counter(
    METRIC.ledgerUnavailable,
    "Deliveries deferred because the ledger store could not be reached.",
  );
  const sessionsHeld = gauge(METRIC.sessionsHeld, "Sessions held now.");
  const sessionAcquire = new Histogram({
    name: METRIC.sessionAcquire,
    help: "Time to accept the next session, seconds.",
    labelNames: sub,
    buckets: SECONDS_ACCEPT,
    registers,
  });
  const duplicates = counter(
    METRIC.ledgerDuplicates,
    "Deliveries the idempotency ledger recognised as already done.",
  );
  const queue = {
    active: gauge(METRIC.queueActive, "Active messages (administration client, polled)."),
    deadLetter: gauge(METRIC.queueDeadLetter, "Dead-lettered messages (administration client, polled)."),
    scheduled: gauge(METRIC.queueScheduled, "Scheduled messages (administration client, polled)."),
    oldest: gauge(METRIC.oldestActiveMessageAge, "Age of the oldest active message, seconds (polled)."),
  };

  const stateOf = bySubscription((topic, subscription): SubscriptionState => {
    const labels = { subscription: keyOf({ topic, subscription }) };
    const state = { labels, inflight: 0, queueWait: inQueue.with(labels), outcomes: new Map() };
    states.push(state);
    return state;
  });
  const outcomeOf = (state: SubscriptionState, outcome: OutcomeLabel): OutcomeState => {
    let found = state.outcomes.get(outcome);
    if (!found) {
      const labels = { subscription: state.labels.subscription, outcome };
      state.outcomes.set(outcome, (found = { labels, unreported: 0, duration: duration.with(labels) }));
    }
    return found;
  };

  const observer: WorkerObserver = {
    handlerStarted(e) {
      const state = stateOf(e);
      state.inflight += 1;
      // A session's retry in place is the same delivery: its queue wait was observed already.
      const enqueued = e.enqueuedTimeUtc;
      if (enqueued instanceof Date && !e.inPlaceRetry)
        state.queueWait.observe(Math.max(0, (now() - enqueued.getTime()) / 1000));
    },
    handlerFinished(e) {
      stateOf(e).inflight -= 1;
    },
    settled(e) {
      const s = e.settlement;
      // A deferral by the ledger keeps its attempt number: the handler did not run.
      if (s.kind === "retry" && s.nextAttempt <= e.attempt) return;
      const state = stateOf(e);
      const o = outcomeOf(state, outcomeLabel(s));
      o.unreported += 1;
      o.duration.observe(e.durationMs / 1000);
      const key = state.labels.subscription;
      if (s.kind === "retry") retries.inc({ subscription: key });
      if (s.kind === "deadLetter") deadLetters.inc({ subscription: key, reason: s.reason });
    },
    lockRenewed(e) {
      renewals.inc({ subscription: e.subscription });
    },
    lockLost(e) {
      lost.inc({ subscription: e.subscription });
    },
    receiveError(e) {
      receiveErrors.inc({ subscription: e.subscription });
    },
    sessionAccepted(e) {
      sessionsHeld.inc({ subscription: e.subscription });
      if (e.acquireMs !== undefined)
        sessionAcquire.observe({ subscription: e.subscription }, e.acquireMs / 1000);
    },
    sessionReleased(e) {
      sessionsHeld.dec({ subscription: e.subscription });
    },
    jobSkipped(e) {
      if (e.why === "done") duplicates.inc({ subscription: keyOf(e) });
    },
    jobAborted(e) {
      if (e.code === "Stalled") stalled.inc({ subscription: keyOf(e) });
    },
    ledgerUnavailable(e) {
      ledgerUnavailable.inc({ subscription: keyOf(e) });
    },
  };

  return {
    registry,
    observer,
    render: () => registry.metrics(),
    contentType: registry.contentType,
    setQueueDepth(subscription, depth) {
      const labels = { subscription };
      queue.active.set(labels, depth.active);
      queue.deadLetter.set(labels, depth.deadLetter);
      queue.scheduled.set(labels, depth.scheduled);
      if (depth.oldestActiveAgeSeconds !== undefined) queue.oldest.set(labels, depth.oldestActiveAgeSeconds);
      else queue.oldest.remove(labels);
    },
  };
}
