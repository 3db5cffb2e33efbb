/**
 * Tick instants and tick ids: pure functions every worker evaluates the same way.
 *
 * Cron fire times come from `cron-parser` in the schedule's time zone, always iterated forward
 * (`next()`), starting from a *safe anchor*: an instant at least three hours past the last UTC offset
 * change of the zone. Forward iteration gives the usual cron behaviour across daylight saving time:
 * - spring forward: a local time that does not exist (02:30 on the night clocks jump from 02:00 to
 *   03:00) fires once, shifted forward by the gap (03:30); times outside the gap are unaffected;
 * - fall back: a job with a fixed hour (02:30, `*∕15 1 * * *`) fires once, in the first pass of the
 *   repeated hour; a job whose hour field is `*` fires in both passes, since each pass is a
 *   different hour of real time.
 * Starting the iteration inside a repeated hour would give a different answer (cron-parser's
 * `next()` only sees the wall clock), and `prev()` disagrees with `next()` around transitions; the
 * safe anchor makes every worker, whenever it starts looking, compute the same set.
 */
import { createHash } from "node:crypto";
import { CronExpressionParser } from "cron-parser";
import type { ScheduleTrigger } from "../../topics/scheduleDsl.js";

const HOUR = 3_600_000;
/** Wider than any daylight-saving shift in the tz database (Lord Howe: 30 min, Troll: 2 h). */
const SAFE_MARGIN_MS = 3 * HOUR;
/** A schedule never yields more ticks than this from one call (a guard, not a policy). */
export const MAX_TICKS_PER_CALL = 10_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's UTC offset at `t` in ms (Berlin in summer: +7_200_000). */
export function utcOffsetMs(timeZone: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return wall - Math.floor(t / 1000) * 1000;
}

/** The local wall-clock time of `t` in `timeZone`, `2025-03-30 03:30:00 (+02:00)`. */
export function localTime(timeZone: string, t: number): string {
  const offset = utcOffsetMs(timeZone, t);
  const wall = new Date(Math.floor(t / 1000) * 1000 + offset).toISOString();
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset) / 60_000;
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${wall.slice(0, 10)} ${wall.slice(11, 19)} (${sign}${hh}:${mm})`;
}

/** The latest instant <= t that is at least SAFE_MARGIN_MS past the zone's last offset change. */
export function safeAnchor(timeZone: string, t: number): number {
  let a = Math.floor(t / 1000) * 1000;
  for (let i = 0; i < 24; i += 1) {
    if (utcOffsetMs(timeZone, a - SAFE_MARGIN_MS) === utcOffsetMs(timeZone, a)) return a;
    a -= SAFE_MARGIN_MS;
  }
  return a;
}

/** Fire times t with from < t <= to (epoch ms, ascending), at most `max` of them. */
export function ticksBetween(
  trigger: ScheduleTrigger,
  from: number,
  to: number,
  max: number = MAX_TICKS_PER_CALL,
): number[] {
  if (to <= from || max <= 0) return [];
  const out: number[] = [];
  if (trigger.kind === "every") {
    const { everyMs, anchorMs } = trigger;
    let k = Math.floor((from - anchorMs) / everyMs) + 1;
    for (let t = anchorMs + k * everyMs; t <= to && out.length < max; k += 1, t = anchorMs + k * everyMs) {
      if (t > from) out.push(t);
    }
    return out;
  }
  const start = safeAnchor(trigger.timeZone, from);
  const it = CronExpressionParser.parse(trigger.expression, {
    currentDate: new Date(start),
    tz: trigger.timeZone,
  });
  for (;;) {
    const t = it.next().getTime();
    if (t > to) return out;
    if (t > from) {
      out.push(t);
      if (out.length >= max) return out;
    }
  }
}

/** The first fire time after `from`. */
export function nextTick(trigger: ScheduleTrigger, from: number): number | undefined {
  // A cron may fire once in years (29 February); look ahead up to 8 years.
  return ticksBetween(trigger, from, from + 8 * 366 * 24 * HOUR, 1)[0];
}

/** The first `count` fire times after `from`. */
export function nextTicks(trigger: ScheduleTrigger, from: number, count: number): number[] {
  const out: number[] = [];
  let cursor = from;
  while (out.length < count) {
    const t = nextTick(trigger, cursor);
    if (t === undefined) break;
    out.push(t);
    cursor = t;
  }
  return out;
}

export const TICK_ID_PREFIX = "sbw-tick:";
const MAX_MESSAGE_ID = 128;

/**
 * The tick id: MessageId and idempotency key of the tick message, `sbw-tick:<name>:<iso>:<fp8>`.
 * The same for every worker (so the broker keeps one copy), different for a changed schedule (so
 * a changed schedule's tick is never mistaken for the old one's). Longer than 128 characters
 * (cannot happen with valid names): the sha256 of that text, prefixed.
 */
export function tickId(name: string, at: number, fingerprint: string): string {
  const text = `${TICK_ID_PREFIX}${name}:${new Date(at).toISOString()}:${fingerprint.slice(0, 8)}`;
  if (text.length <= MAX_MESSAGE_ID) return text;
  return `${TICK_ID_PREFIX}${createHash("sha256").update(text).digest("hex")}`;
}
