/**
 * Topology specs and runtime counts into the ATOM XML `ServiceBusAdministrationClient` 7.9.5
 * parses (see its serializers/*.ts): every property its `build*` functions require is present,
 * `CountDetails` declares exactly one namespace prefix (`d2p1`), and the entry `id` is a URL
 * whose path names the entity, since the SDK takes entity names from there.
 */
import { FOREVER_DURATION, formatDuration } from "../config/duration.js";
import type { QueueSpec, RuleSpec, SubscriptionSpec, TopicSpec } from "../topology.js";
import type { EntityMeta, RuntimeCounts } from "./state.js";
import { el, opt, xmlDocument } from "./xml.js";
import type { RawXml } from "./xml.js";

const ATOM = "http://www.w3.org/2005/Atom";
const SB = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect";
const XSI = "http://www.w3.org/2001/XMLSchema-instance";
const COUNTS_NS = "http://schemas.microsoft.com/netservices/2011/06/servicebus";
const XSD = "http://www.w3.org/2001/XMLSchema";
export const API_VERSION = "2021-05";

/** Where the entity lives, for ids and ForwardTo URLs. */
export interface RenderContext {
  /** `host:port` as the client addressed us. */
  readonly host: string;
  readonly namespace: string;
  readonly now: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ttl = (ms: number | undefined): string => (ms === undefined ? FOREVER_DURATION : formatDuration(ms));
const entityUrl = (ctx: RenderContext, path: string): string =>
  `https://${ctx.host}/${path}?api-version=${API_VERSION}`;
const forwardUrl = (ctx: RenderContext, name: string | undefined): string | undefined =>
  name === undefined ? undefined : `sb://${ctx.host}/${name}`;

function extra(meta: EntityMeta, key: string, fallback: string): string {
  return meta.extras[key] ?? fallback;
}

function times(meta: EntityMeta, runtime: RuntimeCounts | undefined): RawXml[] {
  const accessed = Math.max(meta.updatedAt, runtime?.lastEnqueuedAt ?? 0);
  return [
    el("CreatedAt", iso(meta.createdAt)),
    el("UpdatedAt", iso(meta.updatedAt)),
    el("AccessedAt", iso(accessed)),
  ];
}

function countDetails(r: RuntimeCounts): RawXml {
  const d = (name: string, n: number): RawXml => el(`d2p1:${name}`, String(n));
  return el(
    "CountDetails",
    [
      d("ActiveMessageCount", r.active),
      d("DeadLetterMessageCount", r.deadLetter),
      d("ScheduledMessageCount", r.scheduled),
      d("TransferMessageCount", r.transfer),
      d("TransferDeadLetterMessageCount", r.transferDeadLetter),
    ],
    { "xmlns:d2p1": COUNTS_NS },
  );
}

function description(root: string, content: RawXml[]): RawXml {
  return el(root, content.filter(Boolean), { xmlns: SB, "xmlns:i": XSI });
}

/** One ATOM entry around a description. */
export function entry(
  ctx: RenderContext,
  path: string,
  title: string,
  meta: EntityMeta | undefined,
  body: RawXml,
): RawXml {
  const url = entityUrl(ctx, path);
  return el(
    "entry",
    [
      el("id", url),
      el("title", title, { type: "text" }),
      el("published", iso(meta?.createdAt ?? ctx.now)),
      el("updated", iso(meta?.updatedAt ?? ctx.now)),
      el("author", el("name", ctx.namespace)),
      el("link", undefined, { rel: "self", href: url }),
      el("content", body, { type: "application/xml" }),
    ],
    { xmlns: ATOM },
  );
}

export function xmlEntry(entryElement: RawXml): string {
  return xmlDocument(entryElement);
}

/** A feed; `next` is the `$skip` of the following page when there is one. */
export function feedDocument(
  ctx: RenderContext,
  path: string,
  title: string,
  entries: readonly RawXml[],
  next: { skip: number; top: number } | undefined,
): string {
  const self = entityUrl(ctx, path);
  const links = [el("link", undefined, { rel: "self", href: self })];
  if (next !== undefined) {
    links.push(el("link", undefined, { rel: "next", href: `${self}&$skip=${next.skip}&$top=${next.top}` }));
  }
  return xmlDocument(
    el(
      "feed",
      [
        el("title", title, { type: "text" }),
        el("id", self),
        el("updated", iso(ctx.now)),
        ...links,
        ...entries,
      ],
      { xmlns: ATOM },
    ),
  );
}

export function errorDocument(status: number, detail: string): string {
  return xmlDocument(el("Error", [el("Code", String(status)), el("Detail", detail)]));
}

export function queueDescription(
  ctx: RenderContext,
  q: QueueSpec,
  meta: EntityMeta,
  r: RuntimeCounts,
): RawXml {
  return description("QueueDescription", [
    el("LockDuration", formatDuration(q.lockDurationMs)),
    el("MaxSizeInMegabytes", extra(meta, "MaxSizeInMegabytes", "1024")),
    el("RequiresDuplicateDetection", String(q.requiresDuplicateDetection)),
    el("RequiresSession", String(q.requiresSession)),
    el("DefaultMessageTimeToLive", ttl(q.defaultMessageTtlMs)),
    el("DeadLetteringOnMessageExpiration", String(q.deadLetteringOnMessageExpiration)),
    el("DuplicateDetectionHistoryTimeWindow", formatDuration(q.duplicateDetectionWindowMs)),
    el("MaxDeliveryCount", String(q.maxDeliveryCount)),
    el("EnableBatchedOperations", extra(meta, "EnableBatchedOperations", "true")),
    el("SizeInBytes", String(r.sizeInBytes)),
    el("MessageCount", String(r.messageCount)),
    el("IsAnonymousAccessible", "false"),
    el("Status", extra(meta, "Status", "Active")),
    ...[opt("ForwardTo", forwardUrl(ctx, q.forwardTo))].filter((x): x is RawXml => x !== undefined),
    ...times(meta, r),
    el("SupportOrdering", "true"),
    countDetails(r),
    el("AutoDeleteOnIdle", extra(meta, "AutoDeleteOnIdle", FOREVER_DURATION)),
    el("EnablePartitioning", extra(meta, "EnablePartitioning", "false")),
    el("EntityAvailabilityStatus", "Available"),
    ...[opt("ForwardDeadLetteredMessagesTo", forwardUrl(ctx, q.forwardDeadLetteredMessagesTo))].filter(
      (x): x is RawXml => x !== undefined,
    ),
    el("EnableExpress", extra(meta, "EnableExpress", "false")),
    el("MaxMessageSizeInKilobytes", String(Math.round(q.maxMessageSizeBytes / 1024))),
    ...userMetadata(meta),
  ]);
}

export function topicDescription(
  t: TopicSpec,
  meta: EntityMeta,
  r: RuntimeCounts & { readonly subscriptionCount: number },
): RawXml {
  return description("TopicDescription", [
    el("DefaultMessageTimeToLive", ttl(t.defaultMessageTtlMs)),
    el("MaxSizeInMegabytes", extra(meta, "MaxSizeInMegabytes", "1024")),
    el("RequiresDuplicateDetection", String(t.requiresDuplicateDetection)),
    el("DuplicateDetectionHistoryTimeWindow", formatDuration(t.duplicateDetectionWindowMs)),
    el("EnableBatchedOperations", extra(meta, "EnableBatchedOperations", "true")),
    el("SizeInBytes", String(r.sizeInBytes)),
    el("FilteringMessagesBeforePublishing", "false"),
    el("IsAnonymousAccessible", "false"),
    el("Status", extra(meta, "Status", "Active")),
    ...times(meta, r),
    el("SupportOrdering", extra(meta, "SupportOrdering", "true")),
    countDetails(r),
    el("AutoDeleteOnIdle", extra(meta, "AutoDeleteOnIdle", FOREVER_DURATION)),
    el("EnablePartitioning", extra(meta, "EnablePartitioning", "false")),
    el("IsExpress", "false"),
    el("EnableSubscriptionPartitioning", "false"),
    el("EnableExpress", extra(meta, "EnableExpress", "false")),
    el("SubscriptionCount", String(r.subscriptionCount)),
    el("EntityAvailabilityStatus", "Available"),
    el("MaxMessageSizeInKilobytes", String(Math.round(t.maxMessageSizeBytes / 1024))),
    ...userMetadata(meta),
  ]);
}

export function subscriptionDescription(
  ctx: RenderContext,
  s: SubscriptionSpec,
  meta: EntityMeta,
  r: RuntimeCounts,
): RawXml {
  return description("SubscriptionDescription", [
    el("LockDuration", formatDuration(s.lockDurationMs)),
    el("RequiresSession", String(s.requiresSession)),
    el("DefaultMessageTimeToLive", ttl(s.defaultMessageTtlMs)),
    el("DeadLetteringOnMessageExpiration", String(s.deadLetteringOnMessageExpiration)),
    el(
      "DeadLetteringOnFilterEvaluationExceptions",
      extra(meta, "DeadLetteringOnFilterEvaluationExceptions", "true"),
    ),
    el("MessageCount", String(r.messageCount)),
    el("MaxDeliveryCount", String(s.maxDeliveryCount)),
    el("EnableBatchedOperations", extra(meta, "EnableBatchedOperations", "true")),
    el("Status", extra(meta, "Status", "Active")),
    ...[opt("ForwardTo", forwardUrl(ctx, s.forwardTo))].filter((x): x is RawXml => x !== undefined),
    ...times(meta, r),
    countDetails(r),
    el("AutoDeleteOnIdle", extra(meta, "AutoDeleteOnIdle", FOREVER_DURATION)),
    ...[opt("ForwardDeadLetteredMessagesTo", forwardUrl(ctx, s.forwardDeadLetteredMessagesTo))].filter(
      (x): x is RawXml => x !== undefined,
    ),
    el("EntityAvailabilityStatus", "Available"),
    ...userMetadata(meta),
  ]);
}

function userMetadata(meta: EntityMeta): RawXml[] {
  const v = meta.extras.UserMetadata;
  return v === undefined ? [] : [el("UserMetadata", v)];
}

function typedValue(v: string | number | boolean): RawXml {
  const type =
    typeof v === "boolean"
      ? "boolean"
      : typeof v === "number"
        ? Number.isInteger(v)
          ? "int"
          : "double"
        : "string";
  return el("Value", String(v), { "i:type": `d6p1:${type}`, "xmlns:d6p1": XSD });
}

function properties(p: Readonly<Record<string, string | number | boolean>> | undefined): RawXml | undefined {
  const entries = Object.entries(p ?? {});
  if (entries.length === 0) return undefined;
  return el(
    "Properties",
    entries.map(([k, v]) => el("KeyValueOfstringanyType", [el("Key", k), typedValue(v)])),
  );
}

/** The rule body, shared by `RuleDescription` and a subscription's `DefaultRuleDescription`. */
export function ruleContent(rule: RuleSpec, createdAt: number): RawXml[] {
  const f = rule.filter;
  let filter: RawXml;
  if (f.kind === "correlation") {
    const c = f.correlation;
    filter = el(
      "Filter",
      [
        opt("CorrelationId", c.correlationId),
        opt("MessageId", c.messageId),
        opt("To", c.to),
        opt("ReplyTo", c.replyTo),
        opt("Label", c.label),
        opt("SessionId", c.sessionId),
        opt("ReplyToSessionId", c.replyToSessionId),
        opt("ContentType", c.contentType),
        properties(c.properties),
      ],
      { "i:type": "CorrelationFilter" },
    );
  } else {
    const expression = f.kind === "sql" ? f.expression : f.kind === "true" ? "1=1" : "1=0";
    const type = f.kind === "sql" ? "SqlFilter" : f.kind === "true" ? "TrueFilter" : "FalseFilter";
    filter = el("Filter", [el("SqlExpression", expression), el("CompatibilityLevel", "20")], {
      "i:type": type,
    });
  }
  const action = rule.action
    ? el("Action", [el("SqlExpression", rule.action.expression), el("CompatibilityLevel", "20")], {
        "i:type": "SqlRuleAction",
      })
    : el("Action", undefined, { "i:type": "EmptyRuleAction" });
  return [filter, action, el("CreatedAt", iso(createdAt)), el("Name", rule.name)];
}

export function ruleDescription(rule: RuleSpec, createdAt: number): RawXml {
  return description("RuleDescription", ruleContent(rule, createdAt));
}

export function namespaceInfo(name: string, createdAt: number, now: number): RawXml {
  return el(
    "NamespaceInfo",
    [
      el("CreatedTime", iso(createdAt)),
      el("MessagingSKU", "Standard"),
      el("ModifiedTime", iso(now)),
      el("Name", name),
      el("NamespaceType", "Messaging"),
    ],
    { xmlns: SB, "xmlns:i": XSI },
  );
}
