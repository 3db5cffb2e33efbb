/**
 * The `$management` request/response node of every queue, subscription and dead-letter queue
 * (servicebus-amqp.md §7). Each operation validates its body, acts on the entity and answers
 * with camelCase `statusCode` (the SDK tests `statusCode === 204` by that exact key).
 */
import type { Entity } from "../broker/entity.js";
import { BrokerError, Condition } from "../broker/errors.js";
import type { StoredMessage } from "../broker/message.js";
import { encodeForDelivery } from "../broker/message.js";
import type { Namespace, Resolved } from "../broker/namespace.js";
import { compileRule } from "../broker/rules.js";
import type { FilterSpec, RuleSpec } from "../topology.js";
import { uuidFromAmqp, uuidToRfcBytes } from "./guid.js";
import { message as amqp, types } from "./rhea.js";
import type { AmqpMessage } from "./rhea.js";

export interface ManagementReply {
  readonly status: number;
  readonly body?: unknown;
}

export interface ManagementRequest {
  readonly operation: string;
  readonly body: Record<string, unknown>;
  /** The receiver that holds the session or the lock, when the SDK names it. */
  readonly owner: object | undefined;
}

const STATE_CODE = { active: 0, deferred: 1, scheduled: 2 } as const;

const RULE_DESCRIPTION = 0x0000013700000004;
const SQL_FILTER = 0x0000001370000006;
const TRUE_FILTER = 0x0000001370000007;
const FALSE_FILTER = 0x0000001370000008;
const CORRELATION_FILTER = 0x0000001370000009;
const EMPTY_ACTION = 0x0000013700000005;
const SQL_ACTION = 0x0000013700000006;

export function handleManagement(ns: Namespace, target: Resolved, req: ManagementRequest): ManagementReply {
  const b = req.body;
  const entity = "entity" in target ? target.entity : undefined;
  const needEntity = (): Entity => {
    if (!entity)
      throw new BrokerError(
        Condition.notAllowed,
        `Operation '${req.operation}' needs a queue or subscription.`,
      );
    return entity;
  };
  switch (req.operation) {
    case "com.microsoft:renew-lock": {
      const e = needEntity();
      const expirations = uuids(b["lock-tokens"]).map((t) => e.renew(t));
      return { status: 200, body: { expirations: types.wrap_array(expirations, 0x83) } };
    }
    case "com.microsoft:peek-message": {
      const e = needEntity();
      const from = toNumber(b["from-sequence-number"]) ?? 1;
      const count = toNumber(b["message-count"]) ?? 1;
      const sessionId = typeof b["session-id"] === "string" ? b["session-id"] : undefined;
      const found = e.peek(from, count, sessionId);
      if (found.length === 0) return { status: 204 };
      const messages = found.map((m) => ({ message: types.wrap_binary(peekBytes(m)) }));
      return { status: 200, body: { messages } };
    }
    case "com.microsoft:schedule-message": {
      const list = Array.isArray(b.messages) ? (b.messages as Record<string, unknown>[]) : [];
      const incoming = list.map((entry) => {
        const raw = entry.message;
        if (!Buffer.isBuffer(raw))
          throw new BrokerError(Condition.argumentError, "Each scheduled entry needs a 'message'.");
        return { decoded: amqp.decode(raw), raw };
      });
      const seqs = ns.send(addressOf(target), incoming);
      return { status: 200, body: { "sequence-numbers": types.wrap_array(seqs, 0x81) } };
    }
    case "com.microsoft:cancel-scheduled-message":
      ns.cancelScheduled(target, longs(b["sequence-numbers"]));
      return { status: 200 };
    case "com.microsoft:receive-by-sequence-number": {
      const e = needEntity();
      const deleteNow = toNumber(b["receiver-settle-mode"]) === 0;
      const sessionId = typeof b["session-id"] === "string" ? b["session-id"] : undefined;
      const found = e.receiveDeferred(longs(b["sequence-numbers"]), sessionId, deleteNow);
      const messages = found.map((m) => {
        const entry: Record<string, unknown> = {
          message: types.wrap_binary(
            encodeForDelivery(m, { lockedUntil: m.lockedUntil, state: STATE_CODE.deferred }),
          ),
        };
        if (!deleteNow && m.lockToken) entry["lock-token"] = types.wrap_uuid(uuidToRfcBytes(m.lockToken));
        return entry;
      });
      return { status: 200, body: { messages } };
    }
    case "com.microsoft:update-disposition": {
      const e = needEntity();
      const status = String(b["disposition-status"]);
      const props = (b["properties-to-modify"] as Record<string, unknown> | null | undefined) ?? {};
      for (const token of uuids(b["lock-tokens"])) {
        if (status === "completed") e.complete(token);
        else if (status === "abandoned") e.abandon(token, props);
        else if (status === "defered") e.defer(token, props);
        else if (status === "suspended") {
          e.deadLetterLocked(token, {
            reason: optionalString(b["deadletter-reason"]),
            description: optionalString(b["deadletter-description"]),
            properties: props,
          });
        } else throw new BrokerError(Condition.argumentError, `Unknown disposition-status '${status}'.`);
      }
      return { status: 200 };
    }
    case "com.microsoft:renew-session-lock": {
      const until = needEntity().renewSession(sessionIdOf(b), req.owner);
      return { status: 200, body: { expiration: new Date(until) } };
    }
    case "com.microsoft:get-session-state": {
      const slot = needEntity().heldSession(sessionIdOf(b), req.owner);
      return {
        status: 200,
        body: { "session-state": slot.state === null ? null : types.wrap_binary(slot.state) },
      };
    }
    case "com.microsoft:set-session-state": {
      const e = needEntity();
      const slot = e.heldSession(sessionIdOf(b), req.owner);
      const state = b["session-state"];
      e.sessions.setState(slot, Buffer.isBuffer(state) ? Buffer.from(state) : null);
      return { status: 200 };
    }
    case "com.microsoft:get-message-sessions": {
      const e = needEntity();
      const skip = toNumber(b.skip) ?? 0;
      const top = toNumber(b.top) ?? 100;
      const ids = [...e.sessions.ids()].slice(skip, skip + top);
      if (ids.length === 0) return { status: 204 };
      return {
        status: 200,
        body: { skip: types.wrap_int(skip + ids.length), "sessions-ids": types.wrap_array(ids, 0xa1) },
      };
    }
    case "com.microsoft:enumerate-rules": {
      const sub = needSubscription(target);
      const skip = toNumber(b.skip) ?? 0;
      const top = toNumber(b.top) ?? 100;
      const page = sub.rules.slice(skip, skip + top);
      if (page.length === 0) return { status: 204 };
      return {
        status: 200,
        body: { rules: page.map((r) => ({ "rule-description": describeRule(r.spec) })) },
      };
    }
    case "com.microsoft:add-rule": {
      const sub = needSubscription(target);
      const name = String(b["rule-name"]);
      if (sub.rules.some((r) => r.spec.name.toLowerCase() === name.toLowerCase())) {
        throw new BrokerError(
          Condition.entityAlreadyExists,
          `The messaging entity '${name}' already exists.`,
        );
      }
      const spec = ruleFromDescription(name, b["rule-description"] as Record<string, unknown>);
      sub.rules.push(compileRuleOrArgumentError(spec));
      sub.spec = { ...sub.spec, rules: [...sub.spec.rules, spec] };
      return { status: 200 };
    }
    case "com.microsoft:remove-rule": {
      const sub = needSubscription(target);
      const name = String(b["rule-name"]).toLowerCase();
      const i = sub.rules.findIndex((r) => r.spec.name.toLowerCase() === name);
      if (i < 0)
        throw new BrokerError(
          Condition.notFound,
          `The messaging entity '${String(b["rule-name"])}' could not be found.`,
        );
      sub.rules.splice(i, 1);
      sub.spec = { ...sub.spec, rules: sub.rules.map((r) => r.spec) };
      return { status: 200 };
    }
    default:
      throw new BrokerError(Condition.notImplemented, `The operation '${req.operation}' is not supported.`);
  }
}

function needSubscription(target: Resolved): Extract<Resolved, { kind: "subscription" }>["subscription"] {
  if (target.kind !== "subscription")
    throw new BrokerError(Condition.notAllowed, "Rules exist only on subscriptions.");
  return target.subscription;
}

function addressOf(target: Resolved): string {
  if (target.kind === "queue") return target.queue.spec.name;
  if (target.kind === "topic") return target.topic.spec.name;
  throw new BrokerError(Condition.notAllowed, "Messages can be scheduled only on queues and topics.");
}

function peekBytes(m: StoredMessage): Buffer {
  return encodeForDelivery(m, {
    state: STATE_CODE[m.state],
    scheduledAt: m.scheduledAt,
    lockedUntil: m.lockToken !== undefined ? m.lockedUntil : undefined,
  });
}

function sessionIdOf(b: Record<string, unknown>): string {
  const id = b["session-id"];
  if (typeof id !== "string")
    throw new BrokerError(Condition.argumentError, "The request needs a 'session-id'.");
  return id;
}

function optionalString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function toNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (Buffer.isBuffer(v) && v.length === 8) return Number(v.readBigInt64BE(0));
  return undefined;
}

function longs(v: unknown): number[] {
  if (!Array.isArray(v))
    throw new BrokerError(Condition.argumentError, "Expected an array of sequence numbers.");
  return v.map((x) => {
    const n = toNumber(x);
    if (n === undefined) throw new BrokerError(Condition.argumentError, "Sequence numbers must be longs.");
    return n;
  });
}

function uuids(v: unknown): string[] {
  if (!Array.isArray(v)) throw new BrokerError(Condition.argumentError, "Expected an array of lock tokens.");
  return v.map((x) => {
    const u = uuidFromAmqp(x);
    if (u === undefined) throw new BrokerError(Condition.argumentError, "Lock tokens must be uuids.");
    return u;
  });
}

function nullableString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function ruleFromDescription(name: string, d: Record<string, unknown> | undefined): RuleSpec {
  if (!d) throw new BrokerError(Condition.argumentError, "add-rule needs a 'rule-description'.");
  let filter: FilterSpec;
  const sql = d["sql-filter"] as Record<string, unknown> | null | undefined;
  const corr = d["correlation-filter"] as Record<string, unknown> | null | undefined;
  if (sql) {
    filter = { kind: "sql", expression: String(sql.expression) };
  } else if (corr) {
    const props = corr.properties as Record<string, string | number | boolean> | null | undefined;
    filter = {
      kind: "correlation",
      correlation: {
        correlationId: nullableString(corr["correlation-id"]),
        messageId: nullableString(corr["message-id"]),
        to: nullableString(corr.to),
        replyTo: nullableString(corr["reply-to"]),
        label: nullableString(corr.label),
        sessionId: nullableString(corr["session-id"]),
        replyToSessionId: nullableString(corr["reply-to-session-id"]),
        contentType: nullableString(corr["content-type"]),
        properties: props ?? undefined,
      },
    };
  } else {
    filter = { kind: "true" };
  }
  const action = d["sql-rule-action"] as Record<string, unknown> | null | undefined;
  return { name, filter, action: action ? { expression: String(action.expression) } : undefined };
}

function compileRuleOrArgumentError(spec: RuleSpec): ReturnType<typeof compileRule> {
  try {
    return compileRule(spec);
  } catch (error) {
    throw new BrokerError(Condition.argumentError, error instanceof Error ? error.message : String(error));
  }
}

function str(v: string | undefined): unknown {
  return v === undefined ? null : types.wrap_string(v);
}

/** The described list the SDK's rule manager parses (descriptors per servicebus-amqp.md §7.11). */
function describeRule(spec: RuleSpec): unknown {
  const f = spec.filter;
  let filter: unknown;
  if (f.kind === "sql") {
    filter = types.described(
      types.wrap_ulong(SQL_FILTER),
      types.wrap_list([types.wrap_string(f.expression), types.wrap_int(20)]),
    );
  } else if (f.kind === "correlation") {
    const c = f.correlation;
    filter = types.described(
      types.wrap_ulong(CORRELATION_FILTER),
      types.wrap_list([
        str(c.correlationId),
        str(c.messageId),
        str(c.to),
        str(c.replyTo),
        str(c.label),
        str(c.sessionId),
        str(c.replyToSessionId),
        str(c.contentType),
        types.wrap_map({ ...(c.properties ?? {}) }),
      ]),
    );
  } else {
    filter = types.described(
      types.wrap_ulong(f.kind === "true" ? TRUE_FILTER : FALSE_FILTER),
      types.wrap_list([]),
    );
  }
  const action = spec.action
    ? types.described(
        types.wrap_ulong(SQL_ACTION),
        types.wrap_list([types.wrap_string(spec.action.expression)]),
      )
    : types.described(types.wrap_ulong(EMPTY_ACTION), types.wrap_list([]));
  return types.described(
    types.wrap_ulong(RULE_DESCRIPTION),
    types.wrap_list([filter, action, types.wrap_string(spec.name)]),
  );
}

export type { AmqpMessage };
