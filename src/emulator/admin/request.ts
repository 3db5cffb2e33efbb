/**
 * What an administration request asks for, read from its parts: the route its path names, the
 * paging parameters of its query, and the description element of its ATOM body. Kept apart
 * from router.ts, which dispatches on these; turning a description into a spec is parse.ts.
 */
import { badRequest, notFound } from "./errors.js";
import { child, parseXml, XmlSyntaxError } from "./xml.js";
import type { XmlElement } from "./xml.js";

/** What a request path names. */
export type Route =
  | { readonly kind: "namespace" }
  | { readonly kind: "queues" | "topics" }
  | { readonly kind: "subscriptions"; readonly topic: string }
  | { readonly kind: "subscription"; readonly topic: string; readonly sub: string }
  | { readonly kind: "rules"; readonly topic: string; readonly sub: string }
  | { readonly kind: "rule"; readonly topic: string; readonly sub: string; readonly rule: string }
  | { readonly kind: "entity"; readonly name: string };

/** The route of a request path (already URL-decoded): keywords match in any case, names keep theirs. */
export function parseRoute(path: string): Route {
  const p = path.replace(/^\/+/, "");
  const lower = p.toLowerCase().replace(/\/+$/, "");
  if (lower === "$namespaceinfo") return { kind: "namespace" };
  if (lower === "$resources/queues") return { kind: "queues" };
  if (lower === "$resources/topics") return { kind: "topics" };
  const rule = /^(.+)\/subscriptions\/([^/]+)\/rules(?:\/([^/]*))?$/i.exec(p);
  if (rule) {
    const [, topic, sub, name] = rule as unknown as [string, string, string, string | undefined];
    return name ? { kind: "rule", topic, sub, rule: name } : { kind: "rules", topic, sub };
  }
  const sub = /^(.+)\/subscriptions(?:\/([^/]*))?$/i.exec(p);
  if (sub) {
    const [, topic, name] = sub as unknown as [string, string, string | undefined];
    return name ? { kind: "subscription", topic, sub: name } : { kind: "subscriptions", topic };
  }
  if (p.replace(/\/+$/, "") === "") throw notFound("/");
  return { kind: "entity", name: p.replace(/\/+$/, "") };
}

/** A non-negative integer query parameter (`$skip`, `$top`; `$top` is at least 1), else 400. */
export function intParam(url: URL, key: string, fallback: number): number {
  const v = url.searchParams.get(key);
  if (v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`${key} must be a non-negative integer.`);
  return key === "$top" ? Math.max(1, n) : n;
}

/** The description element inside `<entry><content>`. */
export function description(body: string): XmlElement {
  let doc: XmlElement;
  try {
    doc = parseXml(body);
  } catch (error) {
    if (error instanceof XmlSyntaxError)
      throw badRequest(`The request body is not valid XML: ${error.message}`);
    throw error;
  }
  const content = doc.local === "entry" ? child(doc, "content") : undefined;
  const d = content?.children[0];
  if (d === undefined)
    throw badRequest("The request body must be an ATOM entry with a description in its content.");
  return d;
}

/** Fails with 400 unless the description is a `local` element. */
export function expectRoot(d: XmlElement, local: string): void {
  if (d.local !== local) throw badRequest(`Expected a ${local}, got ${d.local}.`);
}
