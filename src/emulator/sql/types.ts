/**
 * Public shapes of the SQL filter / rule-action module. The module works on this neutral view
 * of a message so it stays independent of the broker's own message type.
 */

/** A property value. Integers and decimals are both JS numbers (integers within the safe range). */
export type SqlValue = string | number | boolean | Date | null;

export interface FilterableMessage {
  /**
   * System properties keyed by their Service Bus names in PascalCase: MessageId, CorrelationId,
   * To, ReplyTo, Label (= subject), SessionId, ReplyToSessionId, ContentType, SequenceNumber,
   * EnqueuedTimeUtc, ScheduledEnqueueTimeUtc, DeliveryCount, TimeToLive (ms number), Size,
   * ExpiresAtUtc, PartitionKey, LockToken, DeadLetterSource, EnqueuedSequenceNumber, State.
   * Absent = undefined.
   */
  system: Record<string, SqlValue | undefined>;
  /** Application (user) properties. */
  user: Record<string, SqlValue | undefined>;
}

export interface SqlFilter {
  readonly expression: string;
  /** True only when the predicate is TRUE; FALSE and UNKNOWN do not match. Never throws. */
  matches(msg: FilterableMessage): boolean;
}

export interface SqlRuleAction {
  readonly expression: string;
  /** Runs the statements in order, mutating `msg.system` / `msg.user`. Never throws. */
  apply(msg: FilterableMessage): void;
}

export interface CorrelationFilter {
  correlationId?: string | undefined;
  messageId?: string | undefined;
  to?: string | undefined;
  replyTo?: string | undefined;
  label?: string | undefined;
  sessionId?: string | undefined;
  replyToSessionId?: string | undefined;
  contentType?: string | undefined;
  properties?: Record<string, string | number | boolean> | undefined;
}
