/**
 * The emulator's normalized topology: what `Config.json` (or the administration API) declares,
 * with every duration in milliseconds and every default filled in.
 *
 * Terms: an *entity* is a queue, a topic or a subscription. Queues and subscriptions hold
 * messages (each with a dead-letter sub-queue); a topic only fans out to its subscriptions.
 */

/** Settings shared by queues and subscriptions: the entities that hold and lock messages. */
export interface ReceivableSettings {
  /** How long a peek-lock (message or session) lasts before it expires. */
  readonly lockDurationMs: number;
  /** After this many failed deliveries the message moves to the DLQ (`MaxDeliveryCountExceeded`). */
  readonly maxDeliveryCount: number;
  readonly requiresSession: boolean;
  /** Undefined means "never expires". */
  readonly defaultMessageTtlMs: number | undefined;
  readonly deadLetteringOnMessageExpiration: boolean;
  /** Entity name to auto-forward to; undefined when none. */
  readonly forwardTo: string | undefined;
  readonly forwardDeadLetteredMessagesTo: string | undefined;
}

export interface QueueSpec extends ReceivableSettings {
  readonly kind: "queue";
  readonly name: string;
  readonly requiresDuplicateDetection: boolean;
  readonly duplicateDetectionWindowMs: number;
  readonly maxMessageSizeBytes: number;
}

export interface TopicSpec {
  readonly kind: "topic";
  readonly name: string;
  readonly defaultMessageTtlMs: number | undefined;
  readonly requiresDuplicateDetection: boolean;
  readonly duplicateDetectionWindowMs: number;
  readonly maxMessageSizeBytes: number;
  readonly subscriptions: readonly SubscriptionSpec[];
}

export interface SubscriptionSpec extends ReceivableSettings {
  readonly kind: "subscription";
  readonly name: string;
  /** Empty means the `$Default` rule (a true filter) applies. */
  readonly rules: readonly RuleSpec[];
}

/** Correlation filter fields, as in Config.json (Label is the message's subject). */
export interface CorrelationFilterSpec {
  readonly correlationId?: string | undefined;
  readonly messageId?: string | undefined;
  readonly to?: string | undefined;
  readonly replyTo?: string | undefined;
  readonly label?: string | undefined;
  readonly sessionId?: string | undefined;
  readonly replyToSessionId?: string | undefined;
  readonly contentType?: string | undefined;
  /** Application properties that must be present with equal values. */
  readonly properties?: Readonly<Record<string, string | number | boolean>> | undefined;
}

export type FilterSpec =
  | { readonly kind: "sql"; readonly expression: string }
  | { readonly kind: "correlation"; readonly correlation: CorrelationFilterSpec }
  | { readonly kind: "true" }
  | { readonly kind: "false" };

export interface RuleSpec {
  readonly name: string;
  readonly filter: FilterSpec;
  /** A SQL rule action (`SET ...`, `REMOVE ...`) applied to the copy the rule admits. */
  readonly action?: { readonly expression: string } | undefined;
}

export interface Topology {
  readonly namespace: string;
  readonly queues: readonly QueueSpec[];
  readonly topics: readonly TopicSpec[];
}

/** Real-Azure style defaults (Standard tier), used when Config.json omits a property. */
export const DEFAULTS = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  duplicateDetectionWindowMs: 10 * 60_000,
  maxMessageSizeBytes: 1024 * 1024,
} as const;
