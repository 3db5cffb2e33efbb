/**
 * Topology → official Config.json, for `sbworker topology emulator-config`. Every property is
 * written out, so the file means the same under either mode's defaults.
 *
 * What Config.json cannot express is lost: `maxMessageSizeBytes` (it comes from the mode when
 * loading). A topology that Config.json forbids (a topic without subscriptions, a `$Default` rule
 * name) is written as is and will not load back.
 */
import type {
  CorrelationFilterSpec,
  QueueSpec,
  RuleSpec,
  SubscriptionSpec,
  Topology,
  TopicSpec,
} from "../topology.js";
import { FOREVER_DURATION, formatDuration } from "./duration.js";
import type { LoggingType } from "./load.js";

export interface ReceivableJson {
  DeadLetteringOnMessageExpiration: boolean;
  DefaultMessageTimeToLive: string;
  LockDuration: string;
  MaxDeliveryCount: number;
  ForwardDeadLetteredMessagesTo: string;
  ForwardTo: string;
  RequiresSession: boolean;
}

export interface QueueJson {
  Name: string;
  Properties: ReceivableJson & {
    DuplicateDetectionHistoryTimeWindow: string;
    RequiresDuplicateDetection: boolean;
  };
}

export interface CorrelationFilterJson {
  ContentType?: string;
  CorrelationId?: string;
  Label?: string;
  MessageId?: string;
  ReplyTo?: string;
  ReplyToSessionId?: string;
  SessionId?: string;
  To?: string;
  Properties?: Record<string, string | number | boolean>;
}

export interface RuleJson {
  Name: string;
  Properties:
    | {
        FilterType: "Correlation";
        CorrelationFilter: CorrelationFilterJson;
        Action?: { SqlExpression: string };
      }
    | { FilterType: "Sql"; SqlFilter: { SqlExpression: string }; Action?: { SqlExpression: string } };
}

export interface SubscriptionJson {
  Name: string;
  Properties: ReceivableJson;
  Rules?: RuleJson[];
}

export interface TopicJson {
  Name: string;
  Properties: {
    DefaultMessageTimeToLive: string;
    DuplicateDetectionHistoryTimeWindow: string;
    RequiresDuplicateDetection: boolean;
  };
  Subscriptions: SubscriptionJson[];
}

export interface EmulatorConfigJson {
  UserConfig: {
    Namespaces: [{ Name: string; Queues: QueueJson[]; Topics: TopicJson[] }];
    Logging: { Type: LoggingType };
  };
}

export interface ToConfigJsonOptions {
  /** Default "File", as in the official default Config.json. */
  readonly logging?: LoggingType;
}

export function topologyToConfigJson(t: Topology, options: ToConfigJsonOptions = {}): EmulatorConfigJson {
  return {
    UserConfig: {
      Namespaces: [{ Name: t.namespace, Queues: t.queues.map(queueJson), Topics: t.topics.map(topicJson) }],
      Logging: { Type: options.logging ?? "File" },
    },
  };
}

function ttl(ms: number | undefined): string {
  return ms === undefined ? FOREVER_DURATION : formatDuration(ms);
}

function receivableJson(e: QueueSpec | SubscriptionSpec): ReceivableJson {
  return {
    DeadLetteringOnMessageExpiration: e.deadLetteringOnMessageExpiration,
    DefaultMessageTimeToLive: ttl(e.defaultMessageTtlMs),
    LockDuration: formatDuration(e.lockDurationMs),
    MaxDeliveryCount: e.maxDeliveryCount,
    ForwardDeadLetteredMessagesTo: e.forwardDeadLetteredMessagesTo ?? "",
    ForwardTo: e.forwardTo ?? "",
    RequiresSession: e.requiresSession,
  };
}

function queueJson(q: QueueSpec): QueueJson {
  return {
    Name: q.name,
    Properties: {
      ...receivableJson(q),
      DuplicateDetectionHistoryTimeWindow: formatDuration(q.duplicateDetectionWindowMs),
      RequiresDuplicateDetection: q.requiresDuplicateDetection,
    },
  };
}

function topicJson(t: TopicSpec): TopicJson {
  return {
    Name: t.name,
    Properties: {
      DefaultMessageTimeToLive: ttl(t.defaultMessageTtlMs),
      DuplicateDetectionHistoryTimeWindow: formatDuration(t.duplicateDetectionWindowMs),
      RequiresDuplicateDetection: t.requiresDuplicateDetection,
    },
    Subscriptions: t.subscriptions.map(subscriptionJson),
  };
}

function subscriptionJson(s: SubscriptionSpec): SubscriptionJson {
  const json: SubscriptionJson = { Name: s.name, Properties: receivableJson(s) };
  // The official default file omits Rules for a match-all subscription; so do we.
  if (s.rules.length > 0) json.Rules = s.rules.map(ruleJson);
  return json;
}

function ruleJson(r: RuleSpec): RuleJson {
  const action = r.action === undefined ? {} : { Action: { SqlExpression: r.action.expression } };
  switch (r.filter.kind) {
    case "correlation":
      return {
        Name: r.name,
        Properties: {
          FilterType: "Correlation",
          CorrelationFilter: correlationJson(r.filter.correlation),
          ...action,
        },
      };
    case "sql":
      return {
        Name: r.name,
        Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: r.filter.expression }, ...action },
      };
    // Config.json has no true/false filter types; Service Bus defines them as these SQL filters.
    case "true":
      return {
        Name: r.name,
        Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "1=1" }, ...action },
      };
    case "false":
      return {
        Name: r.name,
        Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "1=0" }, ...action },
      };
  }
}

function correlationJson(c: CorrelationFilterSpec): CorrelationFilterJson {
  const json: CorrelationFilterJson = {};
  if (c.contentType !== undefined) json.ContentType = c.contentType;
  if (c.correlationId !== undefined) json.CorrelationId = c.correlationId;
  if (c.label !== undefined) json.Label = c.label;
  if (c.messageId !== undefined) json.MessageId = c.messageId;
  if (c.replyTo !== undefined) json.ReplyTo = c.replyTo;
  if (c.replyToSessionId !== undefined) json.ReplyToSessionId = c.replyToSessionId;
  if (c.sessionId !== undefined) json.SessionId = c.sessionId;
  if (c.to !== undefined) json.To = c.to;
  if (c.properties !== undefined) json.Properties = Object.fromEntries(Object.entries(c.properties));
  return json;
}
