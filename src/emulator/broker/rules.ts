/**
 * Subscription rules: compiled once, evaluated per message at fan-out. Rules are ORed; a
 * message matching rules without actions is copied once, and each matching rule that carries
 * an action yields its own copy with the action applied.
 */
import type { AmqpMessage } from "../amqp/rhea.js";
import type { FilterableMessage, SqlRuleAction, SqlValue } from "../sql/index.js";
import { compileSqlAction, compileSqlFilter, correlationMatches } from "../sql/index.js";
import type { RuleSpec } from "../topology.js";

export interface CompiledRule {
  readonly spec: RuleSpec;
  matches(m: FilterableMessage): boolean;
  readonly action: SqlRuleAction | undefined;
}

export const DEFAULT_RULE: RuleSpec = { name: "$Default", filter: { kind: "true" } };

export function compileRule(spec: RuleSpec): CompiledRule {
  const f = spec.filter;
  let matches: (m: FilterableMessage) => boolean;
  switch (f.kind) {
    case "true":
      matches = () => true;
      break;
    case "false":
      matches = () => false;
      break;
    case "sql": {
      const compiled = compileSqlFilter(f.expression);
      matches = (m) => compiled.matches(m);
      break;
    }
    case "correlation":
      matches = (m) => correlationMatches(f.correlation, m);
      break;
  }
  return { spec, matches, action: spec.action ? compileSqlAction(spec.action.expression) : undefined };
}

export function compileRules(specs: readonly RuleSpec[]): CompiledRule[] {
  return (specs.length === 0 ? [DEFAULT_RULE] : specs).map(compileRule);
}

const SYSTEM_FIELDS: ReadonlyArray<readonly [string, keyof AmqpMessage]> = [
  ["MessageId", "message_id"],
  ["CorrelationId", "correlation_id"],
  ["To", "to"],
  ["ReplyTo", "reply_to"],
  ["Label", "subject"],
  ["SessionId", "group_id"],
  ["ReplyToSessionId", "reply_to_group_id"],
  ["ContentType", "content_type"],
];

function sqlValue(v: unknown): SqlValue | undefined {
  if (v === undefined) return undefined;
  if (
    v === null ||
    typeof v === "string" ||
    typeof v === "number" ||
    typeof v === "boolean" ||
    v instanceof Date
  )
    return v;
  if (typeof v === "bigint") return Number(v);
  if (Buffer.isBuffer(v)) return v.toString("hex");
  return JSON.stringify(v);
}

export function toFilterable(d: AmqpMessage, seq: number, enqueuedAt: number): FilterableMessage {
  const system: Record<string, SqlValue | undefined> = {};
  for (const [name, key] of SYSTEM_FIELDS) system[name] = sqlValue(d[key]);
  system.SequenceNumber = seq;
  system.EnqueuedTimeUtc = new Date(enqueuedAt);
  system.DeliveryCount = 0;
  if (typeof d.ttl === "number") system.TimeToLive = d.ttl;
  const annotations = d.message_annotations ?? {};
  system.PartitionKey = sqlValue(annotations["x-opt-partition-key"]);
  system.ScheduledEnqueueTimeUtc = sqlValue(annotations["x-opt-scheduled-enqueue-time"]);
  const user: Record<string, SqlValue | undefined> = {};
  for (const [k, v] of Object.entries(d.application_properties ?? {})) user[k] = sqlValue(v);
  return { system, user };
}

/** Writes an action's changes back into a copy of the decoded message. */
function applyAction(d: AmqpMessage, action: SqlRuleAction, seq: number, enqueuedAt: number): AmqpMessage {
  const f = toFilterable(d, seq, enqueuedAt);
  action.apply(f);
  const copy: AmqpMessage = { ...d, application_properties: {} };
  for (const [name, key] of SYSTEM_FIELDS) {
    const v = f.system[name];
    if (v === undefined || v === null) delete copy[key];
    else copy[key] = v instanceof Date ? v.toISOString() : String(v);
  }
  for (const [k, v] of Object.entries(f.user)) if (v !== undefined) copy.application_properties![k] = v;
  return copy;
}

/** The copies a subscription admits: none, the message itself, or one per matching action rule. */
export function admit(
  rules: readonly CompiledRule[],
  d: AmqpMessage,
  seq: number,
  enqueuedAt: number,
): AmqpMessage[] {
  const f = toFilterable(d, seq, enqueuedAt);
  const matching = rules.filter((r) => r.matches(f));
  if (matching.length === 0) return [];
  if (matching.every((r) => r.action === undefined)) return [d];
  return matching.map((r) => (r.action ? applyAction(d, r.action, seq, enqueuedAt) : d));
}
