/**
 * Run-time changes to the namespace that Config.json cannot express: delete and update queues,
 * topics and subscriptions, and edit rules. Creation goes through `Namespace.create*`, exactly as
 * at start-up, so an entity made here behaves like one from Config.json; these functions only
 * add what the Namespace does not offer itself.
 */
import type { Entity } from "../broker/entity.js";
import type { Namespace, Queue, Subscription, Topic } from "../broker/namespace.js";
import { compileRule } from "../broker/rules.js";
import type { QueueSpec, ReceivableSettings, RuleSpec, SubscriptionSpec, TopicSpec } from "../topology.js";
import { badRequest, conflict, notFound } from "./errors.js";

function closeAll(e: Entity): void {
  for (const x of [e, e.deadLetterQueue, e.transferDeadLetterQueue]) x?.close();
}

function applySettings(e: Entity, settings: ReceivableSettings): void {
  e.settings = settings;
  const dlq: ReceivableSettings = { ...settings, requiresSession: false, forwardTo: undefined };
  if (e.deadLetterQueue) e.deadLetterQueue.settings = dlq;
  if (e.transferDeadLetterQueue) e.transferDeadLetterQueue.settings = dlq;
}

export function findQueue(ns: Namespace, name: string): Queue {
  return ns.queues.get(name.toLowerCase()) ?? notFoundThrow(name);
}

export function findTopic(ns: Namespace, name: string): Topic {
  return ns.topics.get(name.toLowerCase()) ?? notFoundThrow(name);
}

export function findSubscription(ns: Namespace, topic: string, name: string): Subscription {
  return (
    findTopic(ns, topic).subscriptions.get(name.toLowerCase()) ??
    notFoundThrow(`${topic}/Subscriptions/${name}`)
  );
}

function notFoundThrow(what: string): never {
  throw notFound(what);
}

/** Entities that forward to `name` (auto-forwarding or dead-letter forwarding). */
function forwarders(ns: Namespace, name: string): string[] {
  const key = name.toLowerCase();
  const out: string[] = [];
  const check = (path: string, s: ReceivableSettings): void => {
    if (s.forwardTo?.toLowerCase() === key || s.forwardDeadLetteredMessagesTo?.toLowerCase() === key)
      out.push(path);
  };
  for (const q of ns.queues.values()) check(q.spec.name, q.spec);
  for (const t of ns.topics.values()) {
    for (const s of t.subscriptions.values()) check(`${t.spec.name}/Subscriptions/${s.spec.name}`, s.spec);
  }
  return out;
}

function refuseIfForwardTarget(ns: Namespace, name: string): void {
  const from = forwarders(ns, name);
  if (from.length > 0) {
    throw badRequest(
      `'${name}' cannot be deleted while ${from.join(", ")} forward(s) to it; change ForwardTo first.`,
    );
  }
}

export function deleteQueue(ns: Namespace, name: string): void {
  const q = findQueue(ns, name);
  refuseIfForwardTarget(ns, q.spec.name);
  ns.queues.delete(q.spec.name.toLowerCase());
  closeAll(q.entity);
}

export function updateQueue(q: Queue, spec: QueueSpec): void {
  (q as { spec: QueueSpec }).spec = spec;
  applySettings(q.entity, spec);
}

export function deleteTopic(ns: Namespace, name: string): void {
  const t = findTopic(ns, name);
  refuseIfForwardTarget(ns, t.spec.name);
  ns.topics.delete(t.spec.name.toLowerCase());
  t.due.close();
  for (const s of t.subscriptions.values()) closeAll(s.entity);
}

export function updateTopic(t: Topic, spec: TopicSpec): void {
  (t as { spec: TopicSpec }).spec = {
    ...spec,
    subscriptions: [...t.subscriptions.values()].map((s) => s.spec),
  };
}

export function createSubscription(ns: Namespace, t: Topic, spec: SubscriptionSpec): Subscription {
  for (const r of spec.rules) compiled(r);
  const sub = ns.createSubscription(t, spec);
  syncTopic(t);
  return sub;
}

export function deleteSubscription(ns: Namespace, topic: string, name: string): void {
  const t = findTopic(ns, topic);
  const sub = findSubscription(ns, topic, name);
  t.subscriptions.delete(sub.spec.name.toLowerCase());
  closeAll(sub.entity);
  syncTopic(t);
}

export function updateSubscription(t: Topic, sub: Subscription, spec: SubscriptionSpec): void {
  sub.spec = { ...spec, rules: sub.rules.map((r) => r.spec) };
  applySettings(sub.entity, spec);
  syncTopic(t);
}

function syncTopic(t: Topic): void {
  (t as { spec: TopicSpec }).spec = {
    ...t.spec,
    subscriptions: [...t.subscriptions.values()].map((s) => s.spec),
  };
}

// ---- rules: the same list the `$management` rule operations edit --------------------------------

function compiled(rule: RuleSpec): ReturnType<typeof compileRule> {
  try {
    return compileRule(rule);
  } catch (error) {
    throw badRequest(`Rule '${rule.name}': ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function listRules(sub: Subscription): RuleSpec[] {
  return sub.rules.map((r) => r.spec);
}

export function findRule(sub: Subscription, path: string, name: string): RuleSpec {
  return sub.rules.find((r) => r.spec.name.toLowerCase() === name.toLowerCase())?.spec ?? notFoundThrow(path);
}

function setRules(sub: Subscription, rules: ReturnType<typeof compileRule>[]): void {
  sub.rules = rules;
  sub.spec = { ...sub.spec, rules: rules.map((r) => r.spec) };
}

export function addRule(sub: Subscription, path: string, rule: RuleSpec): RuleSpec {
  if (sub.rules.some((r) => r.spec.name.toLowerCase() === rule.name.toLowerCase())) throw conflict(path);
  const c = compiled(rule);
  setRules(sub, [...sub.rules, c]);
  return c.spec;
}

export function replaceRule(sub: Subscription, path: string, rule: RuleSpec): RuleSpec {
  const i = sub.rules.findIndex((r) => r.spec.name.toLowerCase() === rule.name.toLowerCase());
  if (i < 0) throw notFound(path);
  const c = compiled({ ...rule, name: sub.rules[i]!.spec.name });
  setRules(
    sub,
    sub.rules.map((r, j) => (j === i ? c : r)),
  );
  return c.spec;
}

export function removeRule(sub: Subscription, path: string, name: string): void {
  const i = sub.rules.findIndex((r) => r.spec.name.toLowerCase() === name.toLowerCase());
  if (i < 0) throw notFound(path);
  setRules(
    sub,
    sub.rules.filter((_, j) => j !== i),
  );
}
