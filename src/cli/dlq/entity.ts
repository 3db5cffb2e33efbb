/**
 * Entity addressing. A source is `<queue>` or `<topic>/<subscription>`; its dead letters live in
 * the entity's `$DeadLetterQueue`. A target is where replayed or resubmitted messages go:
 * - `<queue>` or `<topic>`: sent there as they are (a topic fans out by its rules);
 * - `<topic>/<subscription>`: sent to the topic with `sbw-replay-to = <subscription>`, which only
 *   that subscription's replay rule accepts (Service Bus senders cannot target a subscription).
 */
import { DlqError } from "./errors.js";

export type SourceEntity =
  | { readonly kind: "queue"; readonly queue: string }
  | { readonly kind: "subscription"; readonly topic: string; readonly subscription: string };

export type Target =
  | { readonly kind: "entity"; readonly name: string }
  | { readonly kind: "subscription"; readonly topic: string; readonly subscription: string };

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

function checkName(part: string, text: string, what: string): string {
  if (!NAME.test(part)) throw new DlqError("BadUsage", `${what} "${text}" is not a valid entity name`);
  return part;
}

/** `orders/audit` or `jobs`; anything else is a usage error. */
export function parseSource(text: string | undefined, what = "entity"): SourceEntity {
  if (text === undefined || text === "")
    throw new DlqError("BadUsage", `expected an ${what}: <queue> or <topic>/<subscription>`);
  const parts = text.split("/");
  if (parts.length === 1) return { kind: "queue", queue: checkName(parts[0]!, text, what) };
  if (parts.length === 2)
    return {
      kind: "subscription",
      topic: checkName(parts[0]!, text, what),
      subscription: checkName(parts[1]!, text, what),
    };
  throw new DlqError("BadUsage", `${what} "${text}" must be <queue> or <topic>/<subscription>`);
}

export function parseTarget(text: string): Target {
  const source = parseSource(text, "target");
  return source.kind === "queue" ? { kind: "entity", name: source.queue } : source;
}

/** A source's dead letters go back to the same queue, or to the same subscription only. */
export function defaultTarget(source: SourceEntity): Target {
  return source.kind === "queue" ? { kind: "entity", name: source.queue } : source;
}

export function sourceLabel(source: SourceEntity): string {
  return source.kind === "queue" ? source.queue : `${source.topic}/${source.subscription}`;
}

export function targetLabel(target: Target): string {
  return target.kind === "entity" ? target.name : `${target.topic}/${target.subscription}`;
}

/** The entity a sender opens for a target. */
export function senderEntity(target: Target): string {
  return target.kind === "entity" ? target.name : target.topic;
}
