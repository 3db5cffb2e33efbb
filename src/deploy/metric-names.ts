/**
 * The Prometheus names of every sbworker metric, in one module: the telemetry code (issue 5)
 * registers them under these names and the alert rules in `k8s/` query them, so a rename breaks
 * the build instead of silently breaking an alert.
 *
 * Labels: `subscription` is always the `topic/subscription` key (e.g. `orders/fulfillment`);
 * `outcome` is one of {@link OUTCOMES}; `reason` is the dead-letter reason (`MaxAttemptsExceeded`,
 * `SchemaValidationFailed`, `NoHandler` or a permanent error's code).
 */
export const METRIC = {
  /** Counter {subscription, outcome}: deliveries the worker finished, by how they were settled. */
  messagesProcessed: "sbworker_messages_processed_total",
  /** Histogram {subscription, outcome}: handler start to settlement, seconds. */
  processingDuration: "sbworker_processing_duration_seconds",
  /** Histogram {subscription}: enqueued time to handler start, seconds. */
  timeInQueue: "sbworker_time_in_queue_seconds",
  /** Gauge {subscription}: handlers running now. */
  inflightHandlers: "sbworker_inflight_handlers",
  /** Counter {subscription}: retries scheduled (a transient failure below `maxAttempts`). */
  retries: "sbworker_retries_total",
  /** Counter {subscription, reason}: messages this worker moved to the dead-letter queue. */
  deadLetters: "sbworker_dead_letters_total",
  /** Counter {subscription}: successful message or session lock renewals. */
  lockRenewals: "sbworker_lock_renewals_total",
  /** Counter {subscription}: locks lost while a handler still ran (the message will come back). */
  lockLost: "sbworker_lock_lost_total",
  /** Counter {subscription}: failed receives and session accepts (namespace unreachable, entity missing, no rights). */
  receiveErrors: "sbworker_receive_errors_total",
  /** Counter {subscription}: jobs that stopped heartbeating (long jobs, issue 4). */
  stalled: "sbworker_stalled_total",
  /** Gauge {subscription}: sessions held now (session subscriptions). */
  sessionsHeld: "sbworker_sessions_held",
  /** Histogram {subscription}: time to accept the next session, seconds. */
  sessionAcquire: "sbworker_session_acquire_seconds",
  /** Counter {subscription}: deliveries deferred because the ledger store (Redis) was unreachable. */
  ledgerUnavailable: "sbworker_ledger_unavailable_total",
  /** Counter {subscription}: deliveries the idempotency ledger recognised as already done. */
  ledgerDuplicates: "sbworker_ledger_duplicates_total",
  /** Gauge {subscription}: active messages, from the administration client (opt-in poller). */
  queueActive: "sbworker_queue_active_messages",
  /** Gauge {subscription}: dead-lettered messages, from the administration client. */
  queueDeadLetter: "sbworker_queue_dead_letter_messages",
  /** Gauge {subscription}: scheduled messages, from the administration client. */
  queueScheduled: "sbworker_queue_scheduled_messages",
  /** Gauge {subscription}: age of the oldest active message, seconds (opt-in poller). */
  oldestActiveMessageAge: "sbworker_oldest_active_message_age_seconds",
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Label names used by the metrics above. */
export const LABEL = { subscription: "subscription", outcome: "outcome", reason: "reason" } as const;

/**
 * Values of the `outcome` label: how a delivery ended. `completed` is the only success; the others
 * count as failures in the failure-ratio alert.
 */
export const OUTCOMES = ["completed", "retried", "dead_lettered", "abandoned"] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const FAILURE_OUTCOMES: readonly Outcome[] = OUTCOMES.filter((o) => o !== "completed");
