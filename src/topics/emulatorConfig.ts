/**
 * Topology → the official emulator's `Config.json` object (the same shape Microsoft's Docker
 * emulator reads), plus the subscription rules the worker relies on.
 *
 * Replay routing: retry copies (scheduled by the worker) and dead-letter replays are sent to the
 * *topic*, because Service Bus senders cannot target a subscription. They carry the application
 * property `sbw-replay-to` = the one subscription meant to get them. So every subscription has:
 * - its normal rule(s), each ANDed with `[sbw-replay-to] IS NULL`, so a copy meant for another
 *   subscription never reaches it (correlation rules are compiled to SQL for this, since a
 *   correlation filter cannot test for a missing property);
 * - the rule `sbw-replay`, a correlation filter on `sbw-replay-to` = its own name.
 */
import type { SubscriptionDefinition, SubscriptionRule, TopologyShape } from "./dsl.js";

export const REPLAY_PROPERTY = "sbw-replay-to";
export const REPLAY_RULE_NAME = "sbw-replay";
/** The official emulator allows exactly this namespace name. */
export const EMULATOR_NAMESPACE = "sbemulatorns";

export interface RuleJson {
  Name: string;
  Properties:
    | { FilterType: "Sql"; SqlFilter: { SqlExpression: string } }
    | { FilterType: "Correlation"; CorrelationFilter: { Properties: Record<string, string> } };
}

export interface SubscriptionJson {
  Name: string;
  Properties: {
    DeadLetteringOnMessageExpiration: boolean;
    DefaultMessageTimeToLive?: string;
    LockDuration: string;
    MaxDeliveryCount: number;
    ForwardDeadLetteredMessagesTo: string;
    ForwardTo: string;
    RequiresSession: boolean;
  };
  Rules: RuleJson[];
}

export interface TopicJson {
  Name: string;
  Properties: {
    DefaultMessageTimeToLive?: string;
    DuplicateDetectionHistoryTimeWindow: string;
    RequiresDuplicateDetection: boolean;
  };
  Subscriptions: SubscriptionJson[];
}

export interface EmulatorConfigJson {
  UserConfig: {
    Namespaces: [{ Name: string; Queues: []; Topics: TopicJson[] }];
    Logging: { Type: "File" | "Console" | "File,Console" | "Console,File" };
  };
}

const DEFAULT_LOCK_MS = 60_000;
const DEFAULT_MAX_DELIVERY_COUNT = 10;
const DEFAULT_DEDUP_WINDOW_MS = 5 * 60_000;

/** Milliseconds as an ISO-8601 duration (`PT1M`, `PT0.25S`, `P1DT2H`). */
export function isoDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0)
    throw new RangeError(`duration must be a non-negative number of ms, got ${ms}`);
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  const time = [
    hours ? `${hours}H` : "",
    minutes ? `${minutes}M` : "",
    seconds ? `${+seconds.toFixed(3)}S` : "",
  ].join("");
  const text = `P${days ? `${days}D` : ""}${time ? `T${time}` : ""}`;
  return text === "P" ? "PT0S" : text;
}

function sqlString(value: string | number | boolean): string {
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  return String(value);
}

/** A user property name, bracketed so names with `-` or `.` parse. */
function sqlProperty(name: string): string {
  return `[${name.replaceAll("]", "]]")}]`;
}

const CORRELATION_SYSTEM: Readonly<Record<string, string>> = {
  subject: "sys.Label",
  correlationId: "sys.CorrelationId",
  contentType: "sys.ContentType",
  to: "sys.To",
  replyTo: "sys.ReplyTo",
};

/** One rule's filter as a SQL expression. */
export function ruleToSql(rule: SubscriptionRule): string {
  if ("sql" in rule) return rule.sql;
  const { properties, ...system } = rule.correlation;
  const terms = Object.entries(system)
    .filter((entry): entry is [string, string] => typeof entry[1] === "string")
    .map(([key, value]) => `${CORRELATION_SYSTEM[key] ?? key} = ${sqlString(value)}`);
  for (const [name, value] of Object.entries(properties ?? {}))
    terms.push(`${sqlProperty(name)} = ${sqlString(value)}`);
  if (terms.length === 0) throw new TypeError(`correlation rule "${rule.name}" has no conditions`);
  return terms.join(" AND ");
}

/** The rules of one subscription as Config.json writes them (normal rules first, then replay). */
export function subscriptionRules(name: string, sub: SubscriptionDefinition): RuleJson[] {
  const notReplay = `${sqlProperty(REPLAY_PROPERTY)} IS NULL`;
  const subjects = sub.subjects?.length
    ? `sys.Label IN (${sub.subjects.map(sqlString).join(", ")})`
    : undefined;
  const rules: RuleJson[] = [];
  const sql = (ruleName: string, expression: string): RuleJson => ({
    Name: ruleName,
    Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: expression } },
  });
  if (sub.rules?.length) {
    for (const rule of sub.rules) {
      const parts = [subjects, `(${ruleToSql(rule)})`, notReplay].filter((p): p is string => p !== undefined);
      rules.push(sql(rule.name, parts.join(" AND ")));
    }
  } else {
    rules.push(sql("sbw-default", subjects ? `${subjects} AND ${notReplay}` : notReplay));
  }
  rules.push({
    Name: REPLAY_RULE_NAME,
    Properties: { FilterType: "Correlation", CorrelationFilter: { Properties: { [REPLAY_PROPERTY]: name } } },
  });
  return rules;
}

/** The emulator's Config.json for a topology. */
export function toEmulatorConfig(topology: TopologyShape): EmulatorConfigJson {
  const topics = Object.values(topology).map((topic): TopicJson => ({
    Name: topic.name,
    Properties: {
      ...(topic.defaultMessageTtlMs !== undefined
        ? { DefaultMessageTimeToLive: isoDuration(topic.defaultMessageTtlMs) }
        : {}),
      DuplicateDetectionHistoryTimeWindow: isoDuration(
        topic.duplicateDetection ? topic.duplicateDetection.windowMs : DEFAULT_DEDUP_WINDOW_MS,
      ),
      RequiresDuplicateDetection: Boolean(topic.duplicateDetection),
    },
    Subscriptions: Object.entries(topic.subscriptions).map(([name, sub]): SubscriptionJson => ({
      Name: name,
      Properties: {
        DeadLetteringOnMessageExpiration: sub.deadLetteringOnMessageExpiration ?? false,
        ...(sub.defaultMessageTtlMs !== undefined
          ? { DefaultMessageTimeToLive: isoDuration(sub.defaultMessageTtlMs) }
          : {}),
        LockDuration: isoDuration(sub.lockDurationMs ?? DEFAULT_LOCK_MS),
        MaxDeliveryCount: sub.maxDeliveryCount ?? DEFAULT_MAX_DELIVERY_COUNT,
        ForwardDeadLetteredMessagesTo: "",
        ForwardTo: "",
        RequiresSession: sub.requiresSession ?? false,
      },
      Rules: subscriptionRules(name, sub),
    })),
  }));
  return {
    UserConfig: {
      Namespaces: [{ Name: EMULATOR_NAMESPACE, Queues: [], Topics: topics }],
      Logging: { Type: "Console" },
    },
  };
}
