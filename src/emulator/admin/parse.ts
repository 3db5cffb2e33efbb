/**
 * ATOM request bodies (`QueueDescription`, `TopicDescription`, `SubscriptionDescription`,
 * `RuleDescription`, as `ServiceBusAdministrationClient` 7.9.5 writes them) into topology specs.
 * Create starts from the defaults of the emulator's mode; update starts from the current spec,
 * and properties Service Bus cannot change after creation are refused with 400.
 */
import { parseDuration } from "../config/duration.js";
import type { ConfigLimits, DurationRange } from "../config/limits.js";
import type {
  CorrelationFilterSpec,
  FilterSpec,
  QueueSpec,
  ReceivableSettings,
  RuleSpec,
  SubscriptionSpec,
  TopicSpec,
} from "../topology.js";
import { badRequest } from "./errors.js";
import { attr, child, children, childText } from "./xml.js";
import type { XmlElement } from "./xml.js";

export interface ParseContext {
  readonly limits: ConfigLimits;
  /** Canonical name of a queue or topic (for ForwardTo), or undefined when there is none. */
  readonly entityName: (name: string) => string | undefined;
}

/** Properties the broker does not act on but reports back as given. */
export const PASS_THROUGH = [
  "MaxSizeInMegabytes",
  "EnableBatchedOperations",
  "Status",
  "UserMetadata",
  "AutoDeleteOnIdle",
  "EnablePartitioning",
  "EnableExpress",
  "SupportOrdering",
  "DeadLetteringOnFilterEvaluationExceptions",
  "EntityAvailabilityStatus",
] as const;

export function readExtras(d: XmlElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of PASS_THROUGH) {
    const v = childText(d, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function bool(d: XmlElement, key: string, fallback: boolean): boolean {
  const v = childText(d, key);
  if (v === undefined) return fallback;
  const t = v.toLowerCase();
  if (t !== "true" && t !== "false") throw badRequest(`${key} must be true or false, got '${v}'.`);
  return t === "true";
}

function int(d: XmlElement, key: string, min: number, max: number, fallback: number): number {
  const v = childText(d, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`${key} must be an integer from ${min} to ${max}, got '${v}'.`);
  }
  return n;
}

/** A duration in ms; `forever` (TimeSpan.MaxValue) gives undefined when the range allows it. */
function duration(
  d: XmlElement,
  key: string,
  range: DurationRange,
  fallback: number | undefined,
): number | undefined {
  const v = childText(d, key);
  if (v === undefined) return fallback;
  const parsed = parseDuration(v);
  if (!parsed.ok) throw badRequest(`${key} '${v}' is not an ISO-8601 duration (${parsed.problem}).`);
  if (parsed.forever && range.allowsForever) return undefined;
  if (parsed.ms < range.minMs || (range.maxMs !== undefined && parsed.ms > range.maxMs)) {
    throw badRequest(`${key} '${v}' is out of range; allowed: ${range.allowed}.`);
  }
  return parsed.ms;
}

function span(d: XmlElement, key: string, range: DurationRange, fallback: number): number {
  return duration(d, key, { ...range, allowsForever: false }, fallback) ?? fallback;
}

function forward(
  d: XmlElement,
  key: string,
  ctx: ParseContext,
  self: string | undefined,
  fallback: string | undefined,
): string | undefined {
  const v = child(d, key);
  if (v === undefined) return fallback;
  const raw = v.text.trim();
  if (raw === "") return undefined;
  const name = raw.replace(/^[a-z]+:\/\/[^/]*\//i, "").replace(/\/+$/, "");
  const target = ctx.entityName(name);
  if (target === undefined) throw badRequest(`${key}: the entity '${name}' does not exist.`);
  if (self !== undefined && target.toLowerCase() === self.toLowerCase()) {
    throw badRequest(`${key}: an entity cannot forward to itself.`);
  }
  return target;
}

function immutable<T>(key: string, before: T | undefined, after: T): T {
  if (before !== undefined && before !== after)
    throw badRequest(`${key} cannot be changed after the entity is created.`);
  return after;
}

function receivable(
  d: XmlElement,
  ctx: ParseContext,
  base: ReceivableSettings | undefined,
  self: string | undefined,
): ReceivableSettings {
  const { limits } = ctx;
  const def = limits.defaults;
  return {
    lockDurationMs: span(d, "LockDuration", limits.lockDuration, base?.lockDurationMs ?? def.lockDurationMs),
    maxDeliveryCount: int(
      d,
      "MaxDeliveryCount",
      limits.maxDeliveryCount.min,
      limits.maxDeliveryCount.max,
      base?.maxDeliveryCount ?? def.maxDeliveryCount,
    ),
    requiresSession: immutable(
      "RequiresSession",
      base?.requiresSession,
      bool(d, "RequiresSession", base?.requiresSession ?? false),
    ),
    defaultMessageTtlMs: duration(
      d,
      "DefaultMessageTimeToLive",
      limits.defaultMessageTtl,
      base ? base.defaultMessageTtlMs : def.defaultMessageTtlMs,
    ),
    deadLetteringOnMessageExpiration: bool(
      d,
      "DeadLetteringOnMessageExpiration",
      base?.deadLetteringOnMessageExpiration ?? false,
    ),
    forwardTo: forward(d, "ForwardTo", ctx, self, base?.forwardTo),
    forwardDeadLetteredMessagesTo: forward(
      d,
      "ForwardDeadLetteredMessagesTo",
      ctx,
      self,
      base?.forwardDeadLetteredMessagesTo,
    ),
  };
}

function maxMessageSize(d: XmlElement, fallback: number): number {
  const kb = int(d, "MaxMessageSizeInKilobytes", 1, 100 * 1024, Math.round(fallback / 1024));
  return kb * 1024;
}

export function readQueueDescription(
  name: string,
  d: XmlElement,
  ctx: ParseContext,
  base?: QueueSpec,
): QueueSpec {
  const def = ctx.limits.defaults;
  return {
    kind: "queue",
    name: base?.name ?? name,
    ...receivable(d, ctx, base, base?.name ?? name),
    requiresDuplicateDetection: immutable(
      "RequiresDuplicateDetection",
      base?.requiresDuplicateDetection,
      bool(d, "RequiresDuplicateDetection", base?.requiresDuplicateDetection ?? false),
    ),
    duplicateDetectionWindowMs: span(
      d,
      "DuplicateDetectionHistoryTimeWindow",
      ctx.limits.duplicateDetectionWindow,
      base?.duplicateDetectionWindowMs ?? def.duplicateDetectionWindowMs,
    ),
    maxMessageSizeBytes: maxMessageSize(d, base?.maxMessageSizeBytes ?? def.maxMessageSizeBytes),
  };
}

export function readTopicDescription(
  name: string,
  d: XmlElement,
  ctx: ParseContext,
  base?: TopicSpec,
): TopicSpec {
  const { limits } = ctx;
  const def = limits.defaults;
  return {
    kind: "topic",
    name: base?.name ?? name,
    defaultMessageTtlMs: duration(
      d,
      "DefaultMessageTimeToLive",
      limits.defaultMessageTtl,
      base ? base.defaultMessageTtlMs : def.defaultMessageTtlMs,
    ),
    requiresDuplicateDetection: immutable(
      "RequiresDuplicateDetection",
      base?.requiresDuplicateDetection,
      bool(d, "RequiresDuplicateDetection", base?.requiresDuplicateDetection ?? false),
    ),
    duplicateDetectionWindowMs: span(
      d,
      "DuplicateDetectionHistoryTimeWindow",
      limits.duplicateDetectionWindow,
      base?.duplicateDetectionWindowMs ?? def.duplicateDetectionWindowMs,
    ),
    maxMessageSizeBytes: maxMessageSize(d, base?.maxMessageSizeBytes ?? def.maxMessageSizeBytes),
    subscriptions: base?.subscriptions ?? [],
  };
}

export function readSubscriptionDescription(
  name: string,
  d: XmlElement,
  ctx: ParseContext,
  base?: SubscriptionSpec,
): SubscriptionSpec {
  const defaultRule = child(d, "DefaultRuleDescription");
  const rules = base ? base.rules : defaultRule ? [readRule(defaultRule, "$Default")] : [];
  return { kind: "subscription", name: base?.name ?? name, ...receivable(d, ctx, base, undefined), rules };
}

// ---- rules -------------------------------------------------------------------------------------

const TRUE_SQL = /^\s*1\s*=\s*1\s*$/;
const FALSE_SQL = /^\s*1\s*=\s*0\s*$/;

const CORRELATION_FIELDS = [
  ["CorrelationId", "correlationId"],
  ["MessageId", "messageId"],
  ["To", "to"],
  ["ReplyTo", "replyTo"],
  ["Label", "label"],
  ["SessionId", "sessionId"],
  ["ReplyToSessionId", "replyToSessionId"],
  ["ContentType", "contentType"],
] as const;

function typedValue(v: XmlElement | undefined, key: string): string | number | boolean {
  if (v === undefined) throw badRequest(`The property '${key}' has no Value.`);
  const type = localOf(attr(v, "type") ?? "string");
  switch (type) {
    case "string":
    case "dateTime":
      return v.text;
    case "boolean":
      return v.text.trim().toLowerCase() === "true";
    case "int":
    case "long":
    case "double":
    case "float":
    case "decimal":
    case "short": {
      const n = Number(v.text);
      if (!Number.isFinite(n)) throw badRequest(`The property '${key}' is not a number: '${v.text}'.`);
      return n;
    }
    default:
      throw badRequest(`The property '${key}' has an unsupported type '${type}'.`);
  }
}

function localOf(qualified: string): string {
  const i = qualified.indexOf(":");
  return i < 0 ? qualified : qualified.slice(i + 1);
}

function keyValues(el: XmlElement | undefined): Record<string, string | number | boolean> | undefined {
  const pairs = children(el, "KeyValueOfstringanyType");
  if (pairs.length === 0) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const p of pairs) {
    const key = childText(p, "Key");
    if (key === undefined) throw badRequest("A property without a Key.");
    Object.defineProperty(out, key, {
      value: typedValue(child(p, "Value"), key),
      enumerable: true,
      writable: true,
    });
  }
  return out;
}

function readFilter(f: XmlElement | undefined): FilterSpec {
  if (f === undefined) return { kind: "true" };
  const type = localOf(attr(f, "type") ?? (child(f, "SqlExpression") ? "SqlFilter" : "CorrelationFilter"));
  if (children(child(f, "Parameters"), "KeyValueOfstringanyType").length > 0) {
    throw badRequest("SQL filter parameters are not supported by the emulator.");
  }
  switch (type) {
    case "TrueFilter":
      return { kind: "true" };
    case "FalseFilter":
      return { kind: "false" };
    case "SqlFilter": {
      const expression = childText(f, "SqlExpression");
      if (expression === undefined) throw badRequest("A SqlFilter needs a SqlExpression.");
      if (TRUE_SQL.test(expression)) return { kind: "true" };
      if (FALSE_SQL.test(expression)) return { kind: "false" };
      return { kind: "sql", expression };
    }
    case "CorrelationFilter": {
      const correlation: { -readonly [K in keyof CorrelationFilterSpec]: CorrelationFilterSpec[K] } = {};
      for (const [xml, field] of CORRELATION_FIELDS) {
        const v = childText(f, xml);
        if (v !== undefined) correlation[field] = v;
      }
      const properties = keyValues(child(f, "Properties"));
      if (properties !== undefined) correlation.properties = properties;
      return { kind: "correlation", correlation };
    }
    default:
      throw badRequest(`Unsupported filter type '${type}'.`);
  }
}

/** A `RuleDescription` (or `DefaultRuleDescription`); the name comes from the element or the URL. */
export function readRule(d: XmlElement, fallbackName: string): RuleSpec {
  const name = childText(d, "Name") ?? fallbackName;
  const filter = readFilter(child(d, "Filter"));
  const a = child(d, "Action");
  if (children(child(a, "Parameters"), "KeyValueOfstringanyType").length > 0) {
    throw badRequest("SQL action parameters are not supported by the emulator.");
  }
  const actionType = a === undefined ? "EmptyRuleAction" : localOf(attr(a, "type") ?? "SqlRuleAction");
  const expression = childText(a, "SqlExpression");
  if (actionType === "SqlRuleAction" && expression !== undefined)
    return { name, filter, action: { expression } };
  return { name, filter };
}
