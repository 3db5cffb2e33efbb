/**
 * Schedules as code: cron or fixed-interval jobs declared next to the topology they publish to.
 *
 * Terms (the same words are used in src/worker/schedules and docs/schedules.md):
 * - schedule: a named trigger (cron expression in a time zone, or a fixed interval) that publishes
 *   one message, the tick, to a topic/subject at each fire time.
 * - tick: one fire time of a schedule, and the message published for it. Its MessageId and its
 *   idempotency key are the tick id, derived from the schedule name, the fire time and the
 *   fingerprint, so every worker builds the same message for the same tick.
 * - horizon: how far ahead each worker schedules ticks on the bus.
 * - catch-up: what happens to ticks missed while no worker ran (`none`, `latest`, `{ all: n }`).
 * - overlap: whether a tick may start while the previous tick of the same schedule still runs.
 * - fingerprint: a hash of everything that defines the ticks; a changed fingerprint means a
 *   changed schedule, whose already scheduled ticks no longer apply.
 *
 * Nothing here touches the network. Cron expressions are parsed with `cron-parser` at definition
 * time, so a typo fails at start-up, not at the first tick.
 */
import { createHash } from "node:crypto";
import { CronExpressionParser } from "cron-parser";
import type { PublishPayloadOf, SubjectOf, SubscriptionOf, TopicName, TopologyShape } from "./dsl.js";

/** What a payload function is given: the tick it builds the message for. */
export interface TickInfo {
  readonly schedule: string;
  /** The fire time. */
  readonly at: Date;
  /** The fire time as ISO 8601 UTC (`2025-03-30T01:00:00.000Z`). */
  readonly iso: string;
  /** The tick id (MessageId and idempotency key of the tick message). */
  readonly id: string;
}

/**
 * Ticks missed while no worker ran: `none` drops them, `latest` runs the most recent one,
 * `{ all: n }` runs the most recent `n` of them, oldest first.
 */
export type CatchUpPolicy = "none" | "latest" | { readonly all: number };

export type ScheduleTrigger =
  | {
      readonly kind: "cron";
      /** Five fields (minute precision) or six (seconds first). */
      readonly expression: string;
      /** IANA time zone the expression is read in (default `UTC`). */
      readonly timeZone: string;
    }
  | {
      readonly kind: "every";
      readonly everyMs: number;
      /** Ticks are at `anchorMs + k * everyMs` (default 0: aligned to the Unix epoch). */
      readonly anchorMs: number;
    };

interface ScheduleSpecBase<T extends TopologyShape, K extends TopicName<T>, S extends SubjectOf<T, K>> {
  /** Unique among schedules; letters, digits, `.`, `_` and `-` (it appears in message ids). */
  readonly name: string;
  readonly timeZone?: string;
  /** The topology key of the topic the tick is published to. */
  readonly topic: K;
  readonly subject: S;
  /**
   * Only this subscription gets the tick (routed with `sbw-replay-to`); default: every
   * subscription of the topic that admits the subject, as for any published message.
   */
  readonly subscription?: SubscriptionOf<T, K>;
  /** The tick's payload, validated by the subject's contract when the tick is scheduled. */
  readonly payload: NoInfer<PublishPayloadOf<T, K, S> | ((tick: TickInfo) => PublishPayloadOf<T, K, S>)>;
  readonly catchUp: CatchUpPolicy;
  /** false: a tick that finds the previous tick of this schedule still running is skipped. */
  readonly overlap: boolean;
  /** overlap: false only: the lease on the running flag, renewed while the tick runs (default 60 s). */
  readonly leaseMs?: number;
  /** Bump to mark a change the fingerprint cannot see (e.g. what a payload function reads). */
  readonly version?: string | number;
}

export type ScheduleSpec<
  T extends TopologyShape,
  K extends TopicName<T>,
  S extends SubjectOf<T, K>,
> = ScheduleSpecBase<T, K, S> &
  (
    | { readonly cron: string; readonly every?: never; readonly anchor?: never }
    | { readonly every: number; readonly cron?: never; readonly anchor?: Date | number }
  );

/** A schedule with its types erased, as the scheduler and the tick handler see it. */
export interface ScheduleDefinition {
  readonly kind: "schedule";
  readonly name: string;
  readonly trigger: ScheduleTrigger;
  readonly topic: string;
  readonly subject: string;
  readonly subscription: string | undefined;
  readonly payload: (tick: TickInfo) => unknown;
  readonly catchUp: CatchUpPolicy;
  readonly overlap: boolean;
  readonly leaseMs: number;
  /** 16 hex digits of sha256 over the trigger, target, payload and version. */
  readonly fingerprint: string;
}

const SCHEDULE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;
/** Shorter intervals would flood the bus with scheduled messages for little benefit. */
export const MIN_INTERVAL_MS = 1_000;
export const DEFAULT_TICK_LEASE_MS = 60_000;

/** Throws a TypeError naming the schedule when `timeZone` is not a known IANA zone. */
function checkTimeZone(name: string, timeZone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new TypeError(`schedule ${name}: unknown time zone "${timeZone}"`);
  }
}

function checkCron(name: string, expression: string, timeZone: string): void {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new TypeError(
      `schedule ${name}: cron "${expression}" must have 5 fields (minute hour day month weekday) or 6 (seconds first)`,
    );
  }
  try {
    CronExpressionParser.parse(expression, { tz: timeZone, strict: false }).next();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new TypeError(`schedule ${name}: invalid cron "${expression}": ${detail}`, { cause: error });
  }
}

function checkCatchUp(name: string, catchUp: CatchUpPolicy): void {
  if (catchUp === "none" || catchUp === "latest") return;
  if (typeof catchUp === "object" && Number.isInteger(catchUp.all) && catchUp.all >= 1) return;
  throw new TypeError(`schedule ${name}: catchUp must be "none", "latest" or { all: n } with n >= 1`);
}

/** Stable text of a JSON-like value (object keys sorted), for the fingerprint. */
function stableText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableText).join(",")}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableText(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

/**
 * The fingerprint: what decides which ticks exist, where they go and what they carry. A payload
 * function is fingerprinted by its source text (every pod runs the same build); `version` covers
 * what the source cannot show.
 */
export function scheduleFingerprint(parts: {
  readonly name: string;
  readonly trigger: ScheduleTrigger;
  readonly topic: string;
  readonly subject: string;
  readonly subscription: string | undefined;
  readonly payload: unknown;
  readonly version: string | number | undefined;
}): string {
  const payload =
    typeof parts.payload === "function"
      ? { function: (parts.payload as () => unknown).toString() }
      : { value: parts.payload };
  const text = stableText({ ...parts, payload, trigger: { ...parts.trigger } });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * Declares a schedule on a topology; `topic`, `subject` and `payload` are typed by it. Checks the
 * name, the trigger (cron syntax, time zone, interval) and the target at definition time.
 */
export function defineSchedule<
  T extends TopologyShape,
  const K extends TopicName<T>,
  const S extends SubjectOf<T, K>,
>(topology: T, spec: ScheduleSpec<T, K, S>): ScheduleDefinition {
  const { name } = spec;
  if (!SCHEDULE_NAME.test(name)) {
    throw new TypeError(
      `schedule name "${name}" must be 1-64 letters, digits, '.', '_' or '-' (starting and ending with a letter or digit)`,
    );
  }
  const topic = topology[spec.topic];
  if (!topic) throw new TypeError(`schedule ${name}: unknown topic "${spec.topic}"`);
  if (!(spec.subject in topic.messages))
    throw new TypeError(`schedule ${name}: topic ${spec.topic} has no subject "${spec.subject}"`);
  if (spec.subscription !== undefined) {
    const sub = topic.subscriptions[spec.subscription];
    if (!sub)
      throw new TypeError(`schedule ${name}: unknown subscription "${spec.topic}/${spec.subscription}"`);
    if (sub.subjects && !sub.subjects.includes(spec.subject)) {
      throw new TypeError(
        `schedule ${name}: subscription ${spec.topic}/${spec.subscription} does not admit "${spec.subject}"`,
      );
    }
  }
  const timeZone = spec.timeZone ?? "UTC";
  checkTimeZone(name, timeZone);
  let trigger: ScheduleTrigger;
  if (spec.cron !== undefined) {
    checkCron(name, spec.cron, timeZone);
    trigger = { kind: "cron", expression: spec.cron.trim().split(/\s+/).join(" "), timeZone };
  } else {
    const everyMs = spec.every;
    if (!Number.isInteger(everyMs) || everyMs < MIN_INTERVAL_MS)
      throw new TypeError(`schedule ${name}: every must be an integer number of ms >= ${MIN_INTERVAL_MS}`);
    const anchorMs = spec.anchor === undefined ? 0 : new Date(spec.anchor).getTime();
    if (!Number.isFinite(anchorMs)) throw new TypeError(`schedule ${name}: anchor is not a valid date`);
    trigger = { kind: "every", everyMs, anchorMs };
  }
  checkCatchUp(name, spec.catchUp);
  const leaseMs = spec.leaseMs ?? DEFAULT_TICK_LEASE_MS;
  if (!Number.isInteger(leaseMs) || leaseMs < 1_000)
    throw new TypeError(`schedule ${name}: leaseMs must be an integer >= 1000`);
  const raw: unknown = spec.payload;
  const payload = typeof raw === "function" ? (raw as (tick: TickInfo) => unknown) : (): unknown => raw;
  return {
    kind: "schedule",
    name,
    trigger,
    topic: spec.topic,
    subject: spec.subject,
    subscription: spec.subscription,
    payload,
    catchUp: spec.catchUp,
    overlap: spec.overlap,
    leaseMs,
    fingerprint: scheduleFingerprint({
      name,
      trigger,
      topic: spec.topic,
      subject: spec.subject,
      subscription: spec.subscription,
      payload: raw,
      version: spec.version,
    }),
  };
}

/** Checks a list of schedules for duplicate names; returns it frozen. */
export function scheduleList(list: readonly ScheduleDefinition[]): readonly ScheduleDefinition[] {
  const seen = new Set<string>();
  for (const s of list) {
    if (seen.has(s.name)) throw new TypeError(`schedule name "${s.name}" is declared twice`);
    seen.add(s.name);
  }
  return Object.freeze([...list]);
}

/** A human description of a trigger: `cron "0 * * * *" (Europe/Berlin)` or `every 5m`. */
export function describeTrigger(trigger: ScheduleTrigger): string {
  if (trigger.kind === "cron") return `cron "${trigger.expression}" (${trigger.timeZone})`;
  const ms = trigger.everyMs;
  const unit =
    ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
  return `every ${unit}`;
}
