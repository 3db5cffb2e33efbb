/**
 * The schedule book: the state workers share about schedules, kept as one JSON document in the
 * ledger store (checkpoint of the key `sbw-schedule/sbw-schedules:book`, updated only while
 * holding that key's claim, so updates are serialized across pods). Pure functions only.
 *
 * - pods: each worker running schedules, with its start time, last cycle time and the fingerprint
 *   of each schedule it declares. Entries older than `podTtlMs` are dropped (the pod is gone).
 * - schedules: per schedule name, the *current* fingerprint (null: removed), since when it is
 *   current, the watermark `through` (ticks up to it were scheduled) and the ticks scheduled on the
 *   bus that have not fired yet, with their sequence numbers (to cancel them).
 *
 * Which definition is current: the one declared by the live pod that started last. A rolling
 * deploy thus switches to the new definition when the first new pod starts, a rollback switches
 * back when the first rolled-back pod starts, and a pod that still runs the old code stops
 * scheduling (it is outdated) without fighting over the book.
 */

export interface PodEntry {
  readonly startedAt: number;
  readonly seenAt: number;
  /** Schedule name → fingerprint. */
  readonly schedules: Readonly<Record<string, string>>;
}

export interface ScheduledTick {
  readonly at: number;
  readonly fingerprint: string;
  /** The topic entity it was scheduled on (a changed schedule may publish elsewhere). */
  readonly entity: string;
  /** Broker sequence numbers (decimal strings: they are 64-bit). */
  readonly seqs: readonly string[];
}

export interface ScheduleState {
  /** The current definition's fingerprint; null when the schedule was removed. */
  readonly fingerprint: string | null;
  /** Epoch ms when this fingerprint became current. */
  readonly since: number;
  readonly through: number | undefined;
  readonly ticks: readonly ScheduledTick[];
}

export interface Book {
  readonly version: 1;
  readonly pods: Readonly<Record<string, PodEntry>>;
  readonly schedules: Readonly<Record<string, ScheduleState>>;
}

export const EMPTY_BOOK: Book = { version: 1, pods: {}, schedules: {} };
/** A removed schedule's tombstone is forgotten after this long. */
export const TOMBSTONE_TTL_MS = 7 * 24 * 3_600_000;

/** Reads a book from the store's JSON; anything unrecognized is an empty book. */
export function parseBook(value: unknown): Book {
  if (value === null || typeof value !== "object") return EMPTY_BOOK;
  const v = value as Partial<Book>;
  if (v.version !== 1 || typeof v.pods !== "object" || typeof v.schedules !== "object") return EMPTY_BOOK;
  return v as Book;
}

export interface PodIdentity {
  readonly id: string;
  readonly startedAt: number;
  readonly schedules: Readonly<Record<string, string>>;
}

export interface ScheduleChange {
  readonly name: string;
  readonly from: string | null;
  readonly to: string | null;
  /** Ticks of other definitions that had not fired yet: cancel them. */
  readonly cancel: readonly ScheduledTick[];
}

/** The live pod whose definitions are current (latest start; ties broken by id). */
export function newestPod(pods: Readonly<Record<string, PodEntry>>): [string, PodEntry] | undefined {
  let best: [string, PodEntry] | undefined;
  for (const entry of Object.entries(pods)) {
    const [id, pod] = entry;
    if (!best || pod.startedAt > best[1].startedAt || (pod.startedAt === best[1].startedAt && id > best[0]))
      best = entry;
  }
  return best;
}

/**
 * One pod's cycle, first half: records the pod, drops dead pods and fired ticks, and moves every
 * schedule to the newest pod's definition, collecting the ticks to cancel.
 */
export function reconcile(
  book: Book,
  pod: PodIdentity,
  now: number,
  podTtlMs: number,
): { book: Book; changes: ScheduleChange[] } {
  const pods: Record<string, PodEntry> = {};
  for (const [id, p] of Object.entries(book.pods)) if (p.seenAt >= now - podTtlMs) pods[id] = p;
  pods[pod.id] = { startedAt: pod.startedAt, seenAt: now, schedules: { ...pod.schedules } };
  const newest = newestPod(pods)![1];
  const schedules: Record<string, ScheduleState> = {};
  const changes: ScheduleChange[] = [];
  const names = new Set([...Object.keys(book.schedules), ...Object.keys(newest.schedules)]);
  for (const name of names) {
    const desired = newest.schedules[name] ?? null;
    const state = book.schedules[name];
    if (!state) {
      if (desired !== null)
        schedules[name] = { fingerprint: desired, since: now, through: undefined, ticks: [] };
      continue;
    }
    const pending = state.ticks.filter((t) => t.at > now);
    if (state.fingerprint === desired) {
      if (desired === null && pending.length === 0 && state.since < now - TOMBSTONE_TTL_MS) continue;
      schedules[name] = { ...state, ticks: pending };
      continue;
    }
    const stale = pending.filter((t) => t.fingerprint !== desired);
    changes.push({ name, from: state.fingerprint, to: desired, cancel: stale });
    schedules[name] = {
      fingerprint: desired,
      since: now,
      through: state.through,
      ticks: pending.filter((t) => t.fingerprint === desired),
    };
  }
  return { book: { version: 1, pods, schedules }, changes };
}

/** One pod's cycle, second half: records the ticks it scheduled and the new watermark. */
export function recordScheduled(
  book: Book,
  name: string,
  fingerprint: string,
  scheduled: readonly { readonly at: number; readonly entity: string; readonly seqs: readonly string[] }[],
  through: number,
): Book {
  const state = book.schedules[name];
  if (!state || state.fingerprint !== fingerprint) return book;
  const ticks = new Map(state.ticks.map((t) => [`${t.at}:${t.fingerprint}`, t]));
  for (const s of scheduled) {
    if (s.seqs.length === 0) continue;
    const key = `${s.at}:${fingerprint}`;
    const old = ticks.get(key);
    const seqs = [...new Set([...(old?.seqs ?? []), ...s.seqs])];
    ticks.set(key, { at: s.at, fingerprint, entity: s.entity, seqs });
  }
  const next: ScheduleState = {
    ...state,
    through: Math.max(through, state.through ?? Number.NEGATIVE_INFINITY),
    ticks: [...ticks.values()].sort((a, b) => a.at - b.at),
  };
  return { ...book, schedules: { ...book.schedules, [name]: next } };
}

/** Whether a pod's definition of a schedule is the current one (it may schedule ticks). */
export function isCurrent(book: Book, name: string, fingerprint: string): boolean {
  return book.schedules[name]?.fingerprint === fingerprint;
}

export type TickVerdict = "run" | "stale";

/**
 * Whether a received tick still applies. A tick belongs to the definition in force at its fire
 * time: it runs when its fingerprint is the current one, or when it fired before the current
 * definition took over (it was due under the old one); otherwise the schedule was changed or
 * removed after it was scheduled, and it is skipped. Without a book entry (the store was wiped,
 * or is unreachable) the worker's own definition decides.
 */
export function tickVerdict(
  tick: { readonly name: string; readonly at: number; readonly fingerprint: string },
  state: ScheduleState | undefined,
  ownFingerprint: string | undefined,
): TickVerdict {
  if (state) {
    if (state.fingerprint === tick.fingerprint) return "run";
    return tick.at < state.since ? "run" : "stale";
  }
  return ownFingerprint === tick.fingerprint ? "run" : "stale";
}
