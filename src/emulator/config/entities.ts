/**
 * Readers for the entities of one namespace: queues, topics, subscriptions and their rules.
 * Each returns the normalized spec from topology.ts with defaults filled in from the mode's limits.
 */
import type {
  CorrelationFilterSpec,
  FilterSpec,
  QueueSpec,
  ReceivableSettings,
  RuleSpec,
  SubscriptionSpec,
  TopicSpec,
} from "../topology.js";
import { parseDuration, type DurationProblem } from "./duration.js";
import {
  child,
  fail,
  get,
  isObject,
  item,
  listNames,
  readArray,
  readBoolean,
  readInteger,
  readObject,
  readString,
  type JsonObject,
} from "./json.js";
import type { ConfigLimits, DurationRange } from "./limits.js";

export interface ReadContext {
  readonly limits: ConfigLimits;
  /** Lower-cased queue and topic names to their declared spelling: the valid forwarding targets. */
  readonly entities: ReadonlyMap<string, string>;
}

export const QUEUE_KEYS = ["Name", "Properties"] as const;
export const TOPIC_KEYS = ["Name", "Properties", "Subscriptions"] as const;
const SUBSCRIPTION_KEYS = ["Name", "Properties", "Rules"] as const;
const RULE_KEYS = ["Name", "Properties"] as const;
const RULE_PROPERTY_KEYS = ["FilterType", "CorrelationFilter", "SqlFilter", "Action"] as const;
const FILTER_TYPES = ["Correlation", "Sql"] as const;

const QUEUE_PROPERTIES = [
  "DeadLetteringOnMessageExpiration",
  "DefaultMessageTimeToLive",
  "DuplicateDetectionHistoryTimeWindow",
  "ForwardDeadLetteredMessagesTo",
  "ForwardTo",
  "LockDuration",
  "MaxDeliveryCount",
  "RequiresDuplicateDetection",
  "RequiresSession",
] as const;
const TOPIC_PROPERTIES = [
  "DefaultMessageTimeToLive",
  "DuplicateDetectionHistoryTimeWindow",
  "RequiresDuplicateDetection",
] as const;
const SUBSCRIPTION_PROPERTIES = [
  "DeadLetteringOnMessageExpiration",
  "DefaultMessageTimeToLive",
  "LockDuration",
  "MaxDeliveryCount",
  "ForwardDeadLetteredMessagesTo",
  "ForwardTo",
  "RequiresSession",
] as const;

/** Config.json field → CorrelationFilterSpec field, for the string-valued system properties. */
const CORRELATION_FIELDS = [
  ["ContentType", "contentType"],
  ["CorrelationId", "correlationId"],
  ["Label", "label"],
  ["MessageId", "messageId"],
  ["ReplyTo", "replyTo"],
  ["ReplyToSessionId", "replyToSessionId"],
  ["SessionId", "sessionId"],
  ["To", "to"],
] as const;
const CORRELATION_KEYS = [...CORRELATION_FIELDS.map(([key]) => key), "Properties"];

export const ENTITY_NAME_MAX = 260;
/** Subscriptions, rules and (here) the namespace. */
export const CHILD_NAME_MAX = 50;
const NAME_CHARS = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?$/;

// Service Bus treats TrueFilter as the SQL filter `1=1` and FalseFilter as `1=0`; mapping them back
// lets topologyToConfigJson (which must write them as SQL) round-trip.
const TRUE_SQL = /^\s*1\s*=\s*1\s*$/;
const FALSE_SQL = /^\s*1\s*=\s*0\s*$/;

const DURATION_PROBLEMS: Record<DurationProblem, string> = {
  malformed: "is not an ISO-8601 duration",
  "calendar-unit": "uses years, months or weeks, which have no fixed length",
  "too-large": "is out of range",
};

export function readName(value: unknown, path: string, max: number): string {
  const allowed = `a name of 1 to ${max} letters, digits, "-", "_", "." or "/", starting and ending with a letter or digit`;
  const name = readString(value, path, allowed);
  if (!NAME_CHARS.test(name)) fail(path, name, "is not a valid name", allowed);
  if (name.length > max) fail(path, name, `is longer than ${max} characters`, allowed);
  return name;
}

/** Names in one scope; Service Bus names are case-insensitive, so `Orders` clashes with `orders`. */
export class NameScope {
  private readonly seen = new Map<string, string>();
  private readonly allowed: string;

  constructor(allowed: string) {
    this.allowed = `${allowed} (names are case-insensitive)`;
  }

  add(name: string, path: string): void {
    const key = name.toLowerCase();
    const previous = this.seen.get(key);
    if (previous !== undefined) fail(path, name, `is already used at ${previous}`, this.allowed);
    this.seen.set(key, path);
  }
}

/** Validates a queue or topic object far enough to know its name (the first pass of loading). */
export function readEntityName(raw: unknown, path: string, kind: "queue" | "topic"): string {
  const obj = readObject(raw, path, `a ${kind} object`, kind === "queue" ? QUEUE_KEYS : TOPIC_KEYS);
  return readName(get(obj, "Name"), child(path, "Name"), ENTITY_NAME_MAX);
}

export function readQueue(raw: unknown, path: string, ctx: ReadContext): QueueSpec {
  const obj = readObject(raw, path, "a queue object", QUEUE_KEYS);
  const name = readName(get(obj, "Name"), child(path, "Name"), ENTITY_NAME_MAX);
  const propsPath = child(path, "Properties");
  const props = readProperties(get(obj, "Properties"), propsPath, QUEUE_PROPERTIES);
  const { limits } = ctx;
  return {
    kind: "queue",
    name,
    ...readReceivable(props, propsPath, ctx, name),
    requiresDuplicateDetection: readBoolean(
      get(props, "RequiresDuplicateDetection"),
      child(propsPath, "RequiresDuplicateDetection"),
      false,
    ),
    duplicateDetectionWindowMs: readSpan(
      get(props, "DuplicateDetectionHistoryTimeWindow"),
      child(propsPath, "DuplicateDetectionHistoryTimeWindow"),
      limits.duplicateDetectionWindow,
      limits.defaults.duplicateDetectionWindowMs,
    ),
    maxMessageSizeBytes: limits.defaults.maxMessageSizeBytes,
  };
}

export function readTopic(raw: unknown, path: string, ctx: ReadContext): TopicSpec {
  const obj = readObject(raw, path, "a topic object", TOPIC_KEYS);
  const name = readName(get(obj, "Name"), child(path, "Name"), ENTITY_NAME_MAX);
  const propsPath = child(path, "Properties");
  const props = readProperties(get(obj, "Properties"), propsPath, TOPIC_PROPERTIES);
  const { limits } = ctx;

  const subsPath = child(path, "Subscriptions");
  const what = "an array of at least one subscription";
  const list = readArray(get(obj, "Subscriptions"), subsPath, what);
  if (list.length === 0) fail(subsPath, list, "is empty", what);
  const max = limits.maxSubscriptionsPerTopic;
  if (max !== undefined && list.length > max) {
    fail(
      subsPath,
      list.length,
      "subscriptions is over the limit",
      `at most ${max} subscriptions per topic (official emulator limit)`,
    );
  }
  const scope = new NameScope("a name not used by another subscription of this topic");
  const subscriptions = list.map((entry, i) => {
    const spec = readSubscription(entry, item(subsPath, i), ctx);
    scope.add(spec.name, child(item(subsPath, i), "Name"));
    return spec;
  });

  return {
    kind: "topic",
    name,
    defaultMessageTtlMs: readTtl(props, propsPath, limits),
    requiresDuplicateDetection: readBoolean(
      get(props, "RequiresDuplicateDetection"),
      child(propsPath, "RequiresDuplicateDetection"),
      false,
    ),
    duplicateDetectionWindowMs: readSpan(
      get(props, "DuplicateDetectionHistoryTimeWindow"),
      child(propsPath, "DuplicateDetectionHistoryTimeWindow"),
      limits.duplicateDetectionWindow,
      limits.defaults.duplicateDetectionWindowMs,
    ),
    maxMessageSizeBytes: limits.defaults.maxMessageSizeBytes,
    subscriptions,
  };
}

function readSubscription(raw: unknown, path: string, ctx: ReadContext): SubscriptionSpec {
  const obj = readObject(raw, path, "a subscription object", SUBSCRIPTION_KEYS);
  const name = readName(get(obj, "Name"), child(path, "Name"), CHILD_NAME_MAX);
  const propsPath = child(path, "Properties");
  const props = readProperties(get(obj, "Properties"), propsPath, SUBSCRIPTION_PROPERTIES);

  const rulesPath = child(path, "Rules");
  const rawRules = get(obj, "Rules");
  const list =
    rawRules === undefined ? [] : readArray(rawRules, rulesPath, "an array of rules (may be empty)");
  const scope = new NameScope("a name not used by another rule of this subscription");
  const rules = list.map((entry, i) => {
    const rule = readRule(entry, item(rulesPath, i));
    scope.add(rule.name, child(item(rulesPath, i), "Name"));
    return rule;
  });

  // A subscription cannot name itself as a target (targets are queues and topics), hence no self.
  return { kind: "subscription", name, ...readReceivable(props, propsPath, ctx, undefined), rules };
}

function readRule(raw: unknown, path: string): RuleSpec {
  const obj = readObject(raw, path, "a rule object", RULE_KEYS);
  const name = readName(get(obj, "Name"), child(path, "Name"), CHILD_NAME_MAX);
  const propsPath = child(path, "Properties");
  const props = readObject(
    get(obj, "Properties"),
    propsPath,
    `an object with "FilterType" and its filter`,
    RULE_PROPERTY_KEYS,
  );

  const typePath = child(propsPath, "FilterType");
  const filterType = readString(get(props, "FilterType"), typePath, listNames(FILTER_TYPES));
  let filter: FilterSpec;
  if (filterType === "Correlation") {
    rejectOther(props, propsPath, "SqlFilter", filterType);
    filter = {
      kind: "correlation",
      correlation: readCorrelation(get(props, "CorrelationFilter"), child(propsPath, "CorrelationFilter")),
    };
  } else if (filterType === "Sql") {
    rejectOther(props, propsPath, "CorrelationFilter", filterType);
    const expression = readSqlObject(get(props, "SqlFilter"), child(propsPath, "SqlFilter"), "filter");
    filter = TRUE_SQL.test(expression)
      ? { kind: "true" }
      : FALSE_SQL.test(expression)
        ? { kind: "false" }
        : { kind: "sql", expression };
  } else {
    fail(typePath, filterType, "is not a filter type", listNames(FILTER_TYPES));
  }

  const rawAction = get(props, "Action");
  if (rawAction === undefined) return { name, filter };
  return {
    name,
    filter,
    action: { expression: readSqlObject(rawAction, child(propsPath, "Action"), "action") },
  };
}

/** A filter of the other type is a mistake (it would be ignored), so it is an error. */
function rejectOther(props: JsonObject, path: string, key: string, filterType: string): void {
  const value = get(props, key);
  if (value !== undefined) {
    fail(
      child(path, key),
      value,
      `is not allowed when FilterType is "${filterType}"`,
      `no ${key} with this FilterType`,
    );
  }
}

/** `{ "SqlExpression": "..." }`, the shape of both SqlFilter and Action. Parsed later, not here. */
function readSqlObject(value: unknown, path: string, role: "filter" | "action"): string {
  const allowed = `a non-empty SQL ${role} expression`;
  const obj = readObject(value, path, `an object with "SqlExpression": ${allowed}`, ["SqlExpression"]);
  const exprPath = child(path, "SqlExpression");
  const expression = readString(get(obj, "SqlExpression"), exprPath, allowed);
  if (expression.trim() === "") fail(exprPath, expression, "is empty", allowed);
  return expression;
}

function readCorrelation(value: unknown, path: string): CorrelationFilterSpec {
  const what = `an object with at least one of ${CORRELATION_KEYS.join(", ")}`;
  const obj = readObject(value, path, what, CORRELATION_KEYS);
  if (Object.keys(obj).length === 0) fail(path, obj, "has no fields", what);
  const spec: { -readonly [K in keyof CorrelationFilterSpec]: CorrelationFilterSpec[K] } = {};
  // Only present fields become keys, so a spec deep-equals its round trip through JSON.
  for (const [key, field] of CORRELATION_FIELDS) {
    const fieldValue = get(obj, key);
    if (fieldValue !== undefined) spec[field] = readString(fieldValue, child(path, key), "a string");
  }
  const props = get(obj, "Properties");
  if (props !== undefined) spec.properties = readApplicationProperties(props, child(path, "Properties"));
  return spec;
}

function readApplicationProperties(value: unknown, path: string): Record<string, string | number | boolean> {
  const allowed = "an object of at least one application property, each a string, number or boolean";
  if (!isObject(value)) fail(path, value, "is not an object", allowed);
  const entries = Object.entries(value);
  if (entries.length === 0) fail(path, value, "has no properties", allowed);
  for (const [key, v] of entries) {
    const ok =
      typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
    if (!ok) fail(child(path, key), v, "is not a string, number or boolean", "a string, number or boolean");
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays data, not a prototype.
  return Object.fromEntries(entries) as Record<string, string | number | boolean>;
}

function readProperties(value: unknown, path: string, known: readonly string[]): JsonObject {
  if (value === undefined) return {};
  return readObject(value, path, `an object with properties ${listNames(known)}`, known);
}

/** The settings queues and subscriptions share. `self` is the queue's own name, if a queue. */
function readReceivable(
  props: JsonObject,
  path: string,
  ctx: ReadContext,
  self: string | undefined,
): ReceivableSettings {
  const { limits } = ctx;
  return {
    lockDurationMs: readSpan(
      get(props, "LockDuration"),
      child(path, "LockDuration"),
      limits.lockDuration,
      limits.defaults.lockDurationMs,
    ),
    maxDeliveryCount: readInteger(
      get(props, "MaxDeliveryCount"),
      child(path, "MaxDeliveryCount"),
      limits.maxDeliveryCount.min,
      limits.maxDeliveryCount.max,
      limits.defaults.maxDeliveryCount,
    ),
    requiresSession: readBoolean(get(props, "RequiresSession"), child(path, "RequiresSession"), false),
    defaultMessageTtlMs: readTtl(props, path, limits),
    deadLetteringOnMessageExpiration: readBoolean(
      get(props, "DeadLetteringOnMessageExpiration"),
      child(path, "DeadLetteringOnMessageExpiration"),
      false,
    ),
    forwardTo: readForward(get(props, "ForwardTo"), child(path, "ForwardTo"), ctx, self),
    forwardDeadLetteredMessagesTo: readForward(
      get(props, "ForwardDeadLetteredMessagesTo"),
      child(path, "ForwardDeadLetteredMessagesTo"),
      ctx,
      self,
    ),
  };
}

/** A forwarding target: "" means none; otherwise a declared queue or topic, in its declared spelling. */
function readForward(
  value: unknown,
  path: string,
  ctx: ReadContext,
  self: string | undefined,
): string | undefined {
  if (value === undefined || value === "") return undefined;
  const allowed = `"" (none) or the name of a queue or topic in this config`;
  const name = readString(value, path, allowed);
  const target = ctx.entities.get(name.toLowerCase());
  if (target === undefined) fail(path, name, "is not a queue or topic in this config", allowed);
  if (target === self) {
    fail(path, name, "forwards the queue to itself", `"" (none) or another queue or topic in this config`);
  }
  return target;
}

function readTtl(props: JsonObject, path: string, limits: ConfigLimits): number | undefined {
  const value = get(props, "DefaultMessageTimeToLive");
  if (value === undefined) return limits.defaults.defaultMessageTtlMs;
  const parsed = readDuration(value, child(path, "DefaultMessageTimeToLive"), limits.defaultMessageTtl);
  return parsed.forever ? undefined : parsed.ms;
}

/** A duration that must be finite (lock, duplicate-detection window). */
function readSpan(value: unknown, path: string, range: DurationRange, fallback: number): number {
  return value === undefined ? fallback : readDuration(value, path, range).ms;
}

function readDuration(value: unknown, path: string, range: DurationRange): { ms: number; forever: boolean } {
  const text = readString(value, path, range.allowed);
  const parsed = parseDuration(text);
  if (!parsed.ok) fail(path, text, DURATION_PROBLEMS[parsed.problem], range.allowed);
  if (parsed.forever && range.allowsForever) return { ms: parsed.ms, forever: true };
  if (parsed.ms < range.minMs || (range.maxMs !== undefined && parsed.ms > range.maxMs)) {
    fail(path, text, "is out of range", range.allowed);
  }
  return { ms: parsed.ms, forever: false };
}
