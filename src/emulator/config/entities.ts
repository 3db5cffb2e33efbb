/**
 * Readers for the entities of one namespace: queues, topics and subscriptions (rules: rules.ts).
 * Each returns the normalized spec from topology.ts with defaults filled in from the mode's limits.
 */
import type { QueueSpec, ReceivableSettings, SubscriptionSpec, TopicSpec } from "../topology.js";
import { parseDuration, type DurationProblem } from "./duration.js";
import {
  child,
  fail,
  get,
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
import { CHILD_NAME_MAX, ENTITY_NAME_MAX, NameScope, readName } from "./names.js";
import { readRule } from "./rules.js";

export interface ReadContext {
  readonly limits: ConfigLimits;
  /** Lower-cased queue and topic names to their declared spelling: the valid forwarding targets. */
  readonly entities: ReadonlyMap<string, string>;
}

export const QUEUE_KEYS = ["Name", "Properties"] as const;
export const TOPIC_KEYS = ["Name", "Properties", "Subscriptions"] as const;
const SUBSCRIPTION_KEYS = ["Name", "Properties", "Rules"] as const;

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

const DURATION_PROBLEMS: Record<DurationProblem, string> = {
  malformed: "is not an ISO-8601 duration",
  "calendar-unit": "uses years, months or weeks, which have no fixed length",
  "too-large": "is out of range",
};

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
    ...readDuplicateDetection(props, propsPath, limits),
    maxMessageSizeBytes: limits.defaults.maxMessageSizeBytes,
  };
}

/** Duplicate detection, the same two properties on queues and topics. */
function readDuplicateDetection(
  props: Parameters<typeof get>[0],
  propsPath: string,
  limits: ReadContext["limits"],
): { requiresDuplicateDetection: boolean; duplicateDetectionWindowMs: number } {
  return {
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
    ...readDuplicateDetection(props, propsPath, limits),
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
