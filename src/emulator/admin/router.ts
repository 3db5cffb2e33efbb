/**
 * The administration REST API (ATOM over HTTP) that `ServiceBusAdministrationClient` calls:
 * `/{queue|topic}`, `/$Resources/Queues|Topics`, `/{topic}/Subscriptions/{sub}`,
 * `/{topic}/Subscriptions/{sub}/Rules/{rule}` (and their lists), `/$namespaceinfo`, plus
 * `GET /health`. PUT creates (201), PUT with `If-Match: *` updates (200), DELETE answers 200.
 * Route, paging and body element are read by request.ts; this file dispatches and answers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import type { Namespace, Subscription, Topic } from "../broker/namespace.js";
import type { ConfigLimits } from "../config/limits.js";
import type { Authorizer } from "../auth/authorizer.js";
import { AdminError, badRequest, conflict, notFound, toAdminError } from "./errors.js";
import * as m from "./mutate.js";
import {
  readExtras,
  readQueueDescription,
  readRule,
  readSubscriptionDescription,
  readTopicDescription,
} from "./parse.js";
import type { ParseContext } from "./parse.js";
import * as r from "./render.js";
import type { RenderContext } from "./render.js";
import { description, expectRoot, intParam, parseRoute } from "./request.js";
import type { Route } from "./request.js";
import type { MetaStore } from "./state.js";
import { receivableRuntime, topicRuntime } from "./state.js";
import type { RawXml, XmlElement } from "./xml.js";

export interface AdminApiOptions {
  readonly namespace: Namespace;
  readonly clock: Clock;
  readonly meta: MetaStore;
  readonly limits: ConfigLimits;
  readonly authorizer: Authorizer;
  readonly startedAt: number;
  /** False while the emulator is shutting down: /health answers 503. */
  readonly ready: () => boolean;
  readonly log: (line: string) => void;
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly type: string;
}

const ENTRY_TYPE = "application/atom+xml;type=entry;charset=utf-8";
const FEED_TYPE = "application/atom+xml;type=feed;charset=utf-8";
const MAX_BODY = 1024 * 1024;

export class AdminApi {
  constructor(private readonly o: AdminApiOptions) {}

  /** Handles one request; never throws (errors become ATOM error documents). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("error", () => res.destroy());
    req.on("end", () => {
      let reply: Reply;
      try {
        if (size > MAX_BODY) throw new AdminError(413, "The request body is larger than 1 MB.");
        reply = this.dispatch(req, Buffer.concat(chunks).toString("utf8"));
      } catch (error) {
        const e = toAdminError(error);
        if (e.status >= 500) this.o.log(`emulator admin: ${req.method} ${req.url}: ${e.stack ?? e.message}`);
        reply = {
          status: e.status,
          body: r.errorDocument(e.status, e.message),
          type: "application/xml; charset=utf-8",
        };
      }
      res.writeHead(reply.status, {
        "content-type": reply.type,
        "content-length": Buffer.byteLength(reply.body),
      });
      res.end(reply.body);
    });
  }

  private dispatch(req: IncomingMessage, body: string): Reply {
    const url = new URL(req.url ?? "/", "http://emulator");
    const method = req.method ?? "GET";
    const path = decodeURIComponent(url.pathname);
    if (path.replace(/\/+$/, "").toLowerCase() === "/health" && (method === "GET" || method === "HEAD")) {
      const ok = this.o.ready();
      return {
        status: ok ? 200 : 503,
        body: JSON.stringify({ status: ok ? "Healthy" : "Unavailable" }),
        type: "application/json",
      };
    }
    const host = req.headers.host ?? "localhost";
    const verdict = this.o.authorizer.http(
      req.headers.authorization,
      `https://${host}${req.url ?? "/"}`,
      "Manage",
    );
    if (!verdict.ok) throw new AdminError(401, verdict.reason);
    const ctx: RenderContext = { host, namespace: this.o.namespace.name, now: this.o.clock.now() };
    const route = parseRoute(path);
    const page = { skip: intParam(url, "$skip", 0), top: intParam(url, "$top", 100) };
    const update = req.headers["if-match"] === "*";
    switch (method) {
      case "GET":
        return this.get(ctx, route, page);
      case "PUT":
        return this.put(ctx, route, description(body), update);
      case "DELETE":
        this.delete(route);
        return { status: 200, body: "", type: ENTRY_TYPE };
      default:
        throw new AdminError(405, `Method ${method} is not supported.`);
    }
  }

  private parseContext(): ParseContext {
    const ns = this.o.namespace;
    return {
      limits: this.o.limits,
      entityName: (name) => {
        const key = name.toLowerCase();
        return ns.queues.get(key)?.spec.name ?? ns.topics.get(key)?.spec.name;
      },
    };
  }

  // ---- entries ------------------------------------------------------------------------------

  private queueEntry(ctx: RenderContext, name: string): RawXml {
    const q = m.findQueue(this.o.namespace, name);
    const meta = this.o.meta.get(q);
    return r.entry(
      ctx,
      q.spec.name,
      q.spec.name,
      meta,
      r.queueDescription(ctx, q.spec, meta, receivableRuntime(q.entity)),
    );
  }

  private topicEntry(ctx: RenderContext, t: Topic): RawXml {
    const meta = this.o.meta.get(t);
    return r.entry(ctx, t.spec.name, t.spec.name, meta, r.topicDescription(t.spec, meta, topicRuntime(t)));
  }

  private subscriptionEntry(ctx: RenderContext, t: Topic, s: Subscription): RawXml {
    const meta = this.o.meta.get(s);
    const path = `${t.spec.name}/Subscriptions/${s.spec.name}`;
    const desc = r.subscriptionDescription(ctx, s.spec, meta, receivableRuntime(s.entity));
    return r.entry(ctx, path, s.spec.name, meta, desc);
  }

  private ruleEntry(ctx: RenderContext, t: Topic, s: Subscription, name: string): RawXml {
    const path = `${t.spec.name}/Subscriptions/${s.spec.name}/Rules/${name}`;
    const rule = m.findRule(s, path, name);
    const meta = this.o.meta.get(rule);
    return r.entry(
      ctx,
      `${t.spec.name}/Subscriptions/${s.spec.name}/Rules/${rule.name}`,
      rule.name,
      meta,
      r.ruleDescription(rule, meta.createdAt),
    );
  }

  private get(ctx: RenderContext, route: Route, page: { skip: number; top: number }): Reply {
    const ns = this.o.namespace;
    const one = (x: RawXml): Reply => ({ status: 200, body: r.xmlEntry(x), type: ENTRY_TYPE });
    const list = (path: string, title: string, all: readonly (() => RawXml)[]): Reply => {
      const slice = all.slice(page.skip, page.skip + page.top).map((f) => f());
      const more =
        page.skip + page.top < all.length ? { skip: page.skip + page.top, top: page.top } : undefined;
      return { status: 200, body: r.feedDocument(ctx, path, title, slice, more), type: FEED_TYPE };
    };
    switch (route.kind) {
      case "namespace": {
        const info = r.namespaceInfo(ns.name, this.o.startedAt, ctx.now);
        return one(r.entry(ctx, "$namespaceinfo", ns.name, undefined, info));
      }
      case "queues":
        return list(
          "$Resources/Queues",
          "Queues",
          [...ns.queues.values()].map((q) => () => this.queueEntry(ctx, q.spec.name)),
        );
      case "topics":
        return list(
          "$Resources/Topics",
          "Topics",
          [...ns.topics.values()].map((t) => () => this.topicEntry(ctx, t)),
        );
      case "entity": {
        const key = route.name.toLowerCase();
        if (ns.queues.has(key)) return one(this.queueEntry(ctx, route.name));
        const t = ns.topics.get(key);
        if (t) return one(this.topicEntry(ctx, t));
        throw notFound(route.name);
      }
      case "subscriptions": {
        const t = m.findTopic(ns, route.topic);
        const subs = [...t.subscriptions.values()];
        return list(
          `${t.spec.name}/Subscriptions`,
          "Subscriptions",
          subs.map((s) => () => this.subscriptionEntry(ctx, t, s)),
        );
      }
      case "subscription": {
        const t = m.findTopic(ns, route.topic);
        return one(this.subscriptionEntry(ctx, t, m.findSubscription(ns, route.topic, route.sub)));
      }
      case "rules": {
        const t = m.findTopic(ns, route.topic);
        const s = m.findSubscription(ns, route.topic, route.sub);
        const path = `${t.spec.name}/Subscriptions/${s.spec.name}/Rules`;
        return list(
          path,
          "Rules",
          m.listRules(s).map((rule) => () => this.ruleEntry(ctx, t, s, rule.name)),
        );
      }
      case "rule": {
        const t = m.findTopic(ns, route.topic);
        return one(this.ruleEntry(ctx, t, m.findSubscription(ns, route.topic, route.sub), route.rule));
      }
    }
  }

  private put(ctx: RenderContext, route: Route, d: XmlElement, update: boolean): Reply {
    const ns = this.o.namespace;
    const pc = this.parseContext();
    const done = (x: RawXml): Reply => ({
      status: update ? 200 : 201,
      body: r.xmlEntry(x),
      type: ENTRY_TYPE,
    });
    const extras = readExtras(d);
    switch (route.kind) {
      case "entity": {
        const key = route.name.toLowerCase();
        const existing = ns.queues.get(key) ?? ns.topics.get(key);
        if (update && !existing) throw notFound(route.name);
        if (!update && existing) throw conflict(route.name);
        if (d.local === "QueueDescription") {
          const q = ns.queues.get(key);
          if (update && !q) throw badRequest(`'${route.name}' is a topic, not a queue.`);
          if (q) {
            m.updateQueue(q, readQueueDescription(route.name, d, pc, q.spec));
            this.o.meta.updated(q, extras);
          } else {
            this.checkQuota();
            this.o.meta.created(ns.createQueue(readQueueDescription(route.name, d, pc)), extras);
          }
          return done(this.queueEntry(ctx, route.name));
        }
        if (d.local === "TopicDescription") {
          let t = ns.topics.get(key);
          if (update && !t) throw badRequest(`'${route.name}' is a queue, not a topic.`);
          if (t) {
            m.updateTopic(t, readTopicDescription(route.name, d, pc, t.spec));
            this.o.meta.updated(t, extras);
          } else {
            this.checkQuota();
            t = ns.createTopic(readTopicDescription(route.name, d, pc));
            this.o.meta.created(t, extras);
          }
          return done(this.topicEntry(ctx, t));
        }
        throw badRequest(`Expected a QueueDescription or TopicDescription, got ${d.local}.`);
      }
      case "subscription": {
        expectRoot(d, "SubscriptionDescription");
        const t = m.findTopic(ns, route.topic);
        let s = t.subscriptions.get(route.sub.toLowerCase());
        const path = `${t.spec.name}/Subscriptions/${route.sub}`;
        if (update && !s) throw notFound(path);
        if (!update && s) throw conflict(path);
        if (s) {
          m.updateSubscription(t, s, readSubscriptionDescription(route.sub, d, pc, s.spec));
          this.o.meta.updated(s, extras);
        } else {
          const max = this.o.limits.maxSubscriptionsPerTopic;
          if (max !== undefined && t.subscriptions.size >= max) {
            throw new AdminError(403, `A topic can have at most ${max} subscriptions (--strict-official).`);
          }
          s = m.createSubscription(ns, t, readSubscriptionDescription(route.sub, d, pc));
          this.o.meta.created(s, extras);
        }
        return done(this.subscriptionEntry(ctx, t, s));
      }
      case "rule": {
        expectRoot(d, "RuleDescription");
        const t = m.findTopic(ns, route.topic);
        const s = m.findSubscription(ns, route.topic, route.sub);
        const path = `${t.spec.name}/Subscriptions/${s.spec.name}/Rules/${route.rule}`;
        const rule = { ...readRule(d, route.rule), name: route.rule };
        if (update) {
          const previous = m.findRule(s, path, route.rule);
          this.o.meta.updated(m.replaceRule(s, path, rule), {}, previous);
        } else {
          this.o.meta.created(m.addRule(s, path, rule), {});
        }
        return done(this.ruleEntry(ctx, t, s, route.rule));
      }
      default:
        throw new AdminError(405, "PUT is not supported on this path.");
    }
  }

  private delete(route: Route): void {
    const ns = this.o.namespace;
    switch (route.kind) {
      case "entity": {
        const key = route.name.toLowerCase();
        if (ns.queues.has(key)) m.deleteQueue(ns, route.name);
        else if (ns.topics.has(key)) m.deleteTopic(ns, route.name);
        else throw notFound(route.name);
        return;
      }
      case "subscription":
        m.deleteSubscription(ns, route.topic, route.sub);
        return;
      case "rule": {
        const s = m.findSubscription(ns, route.topic, route.sub);
        m.removeRule(s, `${route.topic}/Subscriptions/${route.sub}/Rules/${route.rule}`, route.rule);
        return;
      }
      default:
        throw new AdminError(405, "DELETE is not supported on this path.");
    }
  }

  private checkQuota(): void {
    const max = this.o.limits.maxEntities;
    const ns = this.o.namespace;
    if (max !== undefined && ns.queues.size + ns.topics.size >= max) {
      throw new AdminError(
        403,
        `The namespace can have at most ${max} queues and topics (--strict-official).`,
      );
    }
  }
}
