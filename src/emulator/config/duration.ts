/**
 * ISO-8601 durations as Config.json (and .NET's `XmlConvert.ToTimeSpan`) writes them: `PT1M`,
 * `PT0.5S`, `P1DT2H`. We count in 100 ns ticks with BigInt so that `TimeSpan.MaxValue`, which
 * Service Bus uses for "never expires", is recognized exactly rather than by float rounding.
 */

/** `TimeSpan.MaxValue` in ticks. */
export const TIMESPAN_MAX_TICKS = 9_223_372_036_854_775_807n;
/** `TimeSpan.MaxValue` as an ISO-8601 duration: the "forever" TTL of Service Bus. */
export const FOREVER_DURATION = "P10675199DT2H48M5.4775807S";

const TICKS_PER_MS = 10_000n;
const TICKS_PER_SECOND = 10_000_000n;
const TICKS_PER_MINUTE = 60n * TICKS_PER_SECOND;
const TICKS_PER_HOUR = 60n * TICKS_PER_MINUTE;
const TICKS_PER_DAY = 24n * TICKS_PER_HOUR;

export type DurationProblem =
  /** Not an ISO-8601 duration at all (or lowercase, negative, empty `T`...). */
  | "malformed"
  /** Years, months or weeks: no fixed length, and .NET maps them inconsistently. */
  | "calendar-unit"
  /** Longer than `TimeSpan.MaxValue`. */
  | "too-large";

export type DurationParse =
  | {
      readonly ok: true;
      /** Whole milliseconds (sub-millisecond ticks are dropped). */
      readonly ms: number;
      /** True for exactly `TimeSpan.MaxValue`. */
      readonly forever: boolean;
    }
  | { readonly ok: false; readonly problem: DurationProblem };

// Days and time parts only; a fraction (up to tick precision) only on seconds, as in .NET.
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,7}))?S)?)?$/;
const CALENDAR = /^P(?:\d+[YMW])/;

export function parseDuration(text: string): DurationParse {
  const m = DURATION.exec(text);
  if (!m) return { ok: false, problem: CALENDAR.test(text) ? "calendar-unit" : "malformed" };
  const [, days, hours, minutes, seconds, fraction] = m;
  const hasTime = hours !== undefined || minutes !== undefined || seconds !== undefined;
  // "P" and "P1DT" match the pattern but are not durations.
  if ((days === undefined && !hasTime) || (text.includes("T") && !hasTime)) {
    return { ok: false, problem: "malformed" };
  }
  const ticks =
    BigInt(days ?? 0) * TICKS_PER_DAY +
    BigInt(hours ?? 0) * TICKS_PER_HOUR +
    BigInt(minutes ?? 0) * TICKS_PER_MINUTE +
    BigInt(seconds ?? 0) * TICKS_PER_SECOND +
    BigInt((fraction ?? "").padEnd(7, "0"));
  if (ticks > TIMESPAN_MAX_TICKS) return { ok: false, problem: "too-large" };
  return { ok: true, ms: Number(ticks / TICKS_PER_MS), forever: ticks === TIMESPAN_MAX_TICKS };
}

/** Formats milliseconds as the shortest ISO-8601 duration: 60000 → `PT1M`, 500 → `PT0.5S`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`);
  const whole = Math.trunc(ms);
  // BigInt keeps large values (up to TimeSpan.MaxValue) exact; a float fraction rounds to a tick.
  let rest = BigInt(whole) * TICKS_PER_MS + BigInt(Math.round((ms - whole) * 10_000));
  const take = (unit: bigint): bigint => {
    const n = rest / unit;
    rest -= n * unit;
    return n;
  };
  const days = take(TICKS_PER_DAY);
  const hours = take(TICKS_PER_HOUR);
  const minutes = take(TICKS_PER_MINUTE);
  const seconds = take(TICKS_PER_SECOND);
  const fraction = rest === 0n ? "" : `.${rest.toString().padStart(7, "0").replace(/0+$/, "")}`;
  let time = "";
  if (hours > 0n) time += `${hours}H`;
  if (minutes > 0n) time += `${minutes}M`;
  if (seconds > 0n || fraction !== "") time += `${seconds}${fraction}S`;
  if (days === 0n && time === "") return "PT0S";
  return `P${days > 0n ? `${days}D` : ""}${time === "" ? "" : `T${time}`}`;
}
