/** Grouping for `dlq stats`: by reason, by subject and by age bucket, plus the time range. Pure. */
import type { MessageView } from "./view.js";

export interface AgeBucket {
  readonly label: string;
  /** Upper bound of the age in ms (exclusive); Infinity for the last bucket. */
  readonly belowMs: number;
}

export const AGE_BUCKETS: readonly AgeBucket[] = [
  { label: "< 5m", belowMs: 5 * 60_000 },
  { label: "5m - 1h", belowMs: 3_600_000 },
  { label: "1h - 1d", belowMs: 86_400_000 },
  { label: "1d - 7d", belowMs: 7 * 86_400_000 },
  { label: ">= 7d", belowMs: Number.POSITIVE_INFINITY },
];

export interface Stats {
  readonly count: number;
  readonly oldestEnqueuedTimeUtc: Date | undefined;
  readonly newestEnqueuedTimeUtc: Date | undefined;
  readonly byReason: readonly { readonly key: string; readonly count: number }[];
  readonly bySubject: readonly { readonly key: string; readonly count: number }[];
  readonly byAge: readonly { readonly key: string; readonly count: number }[];
}

const NONE = "(none)";

function grouped(values: readonly string[]): { key: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

export function computeStats(views: readonly MessageView[], now: Date): Stats {
  let oldest: Date | undefined;
  let newest: Date | undefined;
  const ages = new Map(AGE_BUCKETS.map((b) => [b.label, 0]));
  for (const v of views) {
    const t = v.enqueuedTimeUtc;
    if (t === undefined) continue;
    if (oldest === undefined || t < oldest) oldest = t;
    if (newest === undefined || t > newest) newest = t;
    const age = Math.max(0, now.getTime() - t.getTime());
    const bucket = AGE_BUCKETS.find((b) => age < b.belowMs)!;
    ages.set(bucket.label, (ages.get(bucket.label) ?? 0) + 1);
  }
  return {
    count: views.length,
    oldestEnqueuedTimeUtc: oldest,
    newestEnqueuedTimeUtc: newest,
    byReason: grouped(views.map((v) => v.deadLetterReason ?? NONE)),
    bySubject: grouped(views.map((v) => v.subject ?? NONE)),
    byAge: AGE_BUCKETS.map((b) => ({ key: b.label, count: ages.get(b.label) ?? 0 })),
  };
}
