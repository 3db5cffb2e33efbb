/**
 * The scheduler: run by every worker process, no leader. Each cycle (at start, then every
 * horizon / 3) it:
 *   1. claims the schedule book in the ledger store (./book.ts) — a short lease that serializes
 *      the cycles of all pods — and records itself as a live pod;
 *   2. moves each schedule to the definition of the newest live pod; ticks of a changed or removed
 *      definition that have not fired are cancelled (`cancelScheduledMessages`);
 *   3. for each schedule whose current definition is its own: sends the catch-up ticks the
 *      planner picks at once, and schedules (`scheduleMessages`) the ticks within the horizon that
 *      the book does not list yet; records their sequence numbers and the new watermark;
 *   4. writes the book back and releases the claim.
 * When the store is unreachable or another pod keeps the book busy, the cycle still schedules
 * the ticks within the horizon (catch-up and cancellation wait for the next cycle): every copy
 * carries the tick id as MessageId, and the topic's duplicate detection keeps one. That is why
 * start-up requires duplicate detection with a window longer than horizon + clock skew: a tick
 * is scheduled first at most `horizon` before it fires, and last before it fires.
 *
 * Invariant: a tick id names one tick of one definition; every copy of it, from any pod, is the
 * same message, and the ledger runs it at most once per subscription.
 */
import { randomUUID } from "node:crypto";
import type { ServiceBusClient, ServiceBusMessage, ServiceBusSender } from "@azure/service-bus";
import Long from "long";
import type { Logger } from "pino";
import type { TopologyShape } from "../../topics/dsl.js";
import type { ScheduleDefinition } from "../../topics/scheduleDsl.js";
import { settledOrAborted } from "../deadline.js";
import { ConfigError } from "../errors.js";
import type { LedgerStore } from "../ledger/types.js";
import { EMPTY_BOOK, isCurrent, parseBook, reconcile, recordScheduled, type Book } from "./book.js";
import { tickMessage, type ToMessage } from "./message.js";
import { planTicks } from "./plan.js";
import { BOOK_KEY, type ScheduleObserver } from "./state.js";

export const DEFAULT_HORIZON_MS = 2 * 60_000;
export const DEFAULT_CLOCK_SKEW_MS = 30_000;
const BOOK_LEASE_MS = 30_000;
const BOOK_CLAIM_TRIES = 5;

export interface SchedulerOptions {
  readonly schedules: readonly ScheduleDefinition[];
  readonly topology: TopologyShape;
  readonly client: ServiceBusClient;
  /** Builds and validates a message (the publisher's `toMessage`). */
  readonly toMessage: ToMessage;
  /** Where the book lives: the ledger store (Redis in production; memory: one process only). */
  readonly store: LedgerStore;
  readonly log: Logger;
  /** How far ahead ticks are scheduled (default 2 min). */
  readonly horizonMs?: number;
  /** Allowance for pods whose clocks disagree, added to the horizon in the start-up check. */
  readonly clockSkewMs?: number;
  /** A pod not seen for this long is gone (default 3 × horizon). */
  readonly podTtlMs?: number;
  readonly maxCatchUpMs?: number;
  /** Seam: the clock (tests pass the emulator's manual clock). */
  readonly now?: () => number;
  /** false: no timer; the caller runs `cycle()` (tests with a manual clock). Default true. */
  readonly autoCycle?: boolean;
  /** Names this process in the book (default: a random id). */
  readonly podId?: string;
  readonly observer?: ScheduleObserver;
  /**
   * Shutdown requested: `start` stops waiting for the first cycle (which goes on in the
   * background and is waited for, bounded, by the worker's close).
   */
  readonly signal?: AbortSignal;
}

export interface CycleReport {
  /** Whether the book was read and written (false: store unreachable or busy). */
  readonly booked: boolean;
  readonly scheduled: number;
  readonly caughtUp: number;
  /** Schedules this pod declares but does not schedule: a newer pod's definition is current. */
  readonly outdated: readonly string[];
}

/** Start-up check: each schedule's topic exists and absorbs every pod's copy of a tick. */
export function checkSchedules(
  schedules: readonly ScheduleDefinition[],
  topology: TopologyShape,
  horizonMs: number,
  clockSkewMs: number,
): string[] {
  const issues: string[] = [];
  for (const s of schedules) {
    const topic = topology[s.topic];
    if (!topic) {
      issues.push(`schedule ${s.name}: unknown topic "${s.topic}"`);
      continue;
    }
    const needed = horizonMs + clockSkewMs;
    if (!topic.duplicateDetection) {
      issues.push(
        `schedule ${s.name}: topic ${s.topic} has no duplicate detection; every worker schedules each tick, so the topic must drop the copies (declare duplicateDetection: { windowMs: >= ${needed} })`,
      );
    } else if (topic.duplicateDetection.windowMs < needed) {
      issues.push(
        `schedule ${s.name}: topic ${s.topic}'s duplicate-detection window (${topic.duplicateDetection.windowMs} ms) is shorter than the scheduling horizon plus clock skew (${horizonMs} + ${clockSkewMs} ms); lengthen the window or shorten SBW_SCHEDULE_HORIZON_MS`,
      );
    }
  }
  return issues;
}

export class Scheduler implements AsyncDisposable {
  readonly podId: string;
  readonly startedAt: number;
  private readonly horizonMs: number;
  private readonly now: () => number;
  private readonly senders = new Map<string, ServiceBusSender>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CycleReport> | undefined;
  private closed = false;
  /**
   * The sends in flight, each with a controller of its own that close() aborts: in a partition a
   * send waits out the SDK's timeouts and retries (minutes). Safe: an aborted cycle writes no
   * book, so the next cycle, on any pod, sends those ticks again, and the broker keeps one copy of
   * each (the tick id is the MessageId). One controller per send, not one for the scheduler's
   * life: the SDK leaves abort listeners on the signal it is given, and a long-lived signal would
   * collect them.
   */
  private readonly sends = new Set<AbortController>();

  private constructor(private readonly options: SchedulerOptions) {
    this.horizonMs = options.horizonMs ?? DEFAULT_HORIZON_MS;
    this.now = options.now ?? Date.now;
    this.podId = options.podId ?? randomUUID().slice(0, 8);
    this.startedAt = this.now();
  }

  /** Checks the schedules against the topology, runs the first cycle and arms the timer. */
  static async start(options: SchedulerOptions): Promise<Scheduler> {
    const horizonMs = options.horizonMs ?? DEFAULT_HORIZON_MS;
    if (!(horizonMs >= 3_000))
      throw new ConfigError([`schedule horizon must be >= 3000 ms, got ${horizonMs}`]);
    const issues = checkSchedules(
      options.schedules,
      options.topology,
      horizonMs,
      options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
    );
    if (issues.length > 0) throw new ConfigError(issues);
    const scheduler = new Scheduler(options);
    // Service Bus unreachable as the pod starts: start all the same (the consumers reconnect on
    // their own); the next cycle schedules what this one could not, or catches it up.
    const first = scheduler.cycle().catch((error: unknown) => scheduler.cycleFailed(error));
    // In a partition the first cycle waits out the SDK's timeouts and retries (minutes): a pod
    // told to stop meanwhile must not wait for it before it can drain.
    if (!(await settledOrAborted(first, options.signal)))
      options.log.warn("shutdown requested during the first schedule cycle; not waiting for it");
    if (options.autoCycle !== false) scheduler.arm();
    return scheduler;
  }

  get schedules(): readonly ScheduleDefinition[] {
    return this.options.schedules;
  }

  /** Runs one cycle now (or joins the one in flight). */
  cycle(): Promise<CycleReport> {
    if (this.closed) return Promise.resolve({ booked: false, scheduled: 0, caughtUp: 0, outdated: [] });
    this.running ??= this.runCycle().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private arm(): void {
    const every = Math.max(1_000, Math.floor(this.horizonMs / 3));
    this.timer = setInterval(() => {
      this.cycle().catch((error: unknown) => this.cycleFailed(error));
    }, every);
    this.timer.unref();
  }

  /** Runs one SDK send that close() can abort (and aborts at once once closed). */
  private async abortable<T>(send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    if (this.closed) controller.abort();
    this.sends.add(controller);
    try {
      return await send(controller.signal);
    } finally {
      this.sends.delete(controller);
    }
  }

  private cycleFailed(error: unknown): void {
    if (this.closed) this.options.log.info("schedule cycle stopped: the scheduler is closing");
    else this.options.log.error({ err: error }, "schedule cycle failed; the next cycle retries");
  }

  private sender(entity: string): ServiceBusSender {
    let s = this.senders.get(entity);
    if (!s) this.senders.set(entity, (s = this.options.client.createSender(entity)));
    return s;
  }

  private entityOf(schedule: ScheduleDefinition): string {
    return this.options.topology[schedule.topic]?.name ?? schedule.topic;
  }

  /** Claims the book, waiting briefly while another pod's cycle holds it; undefined if it stays busy. */
  private async claimBook(holder: string): Promise<Book | undefined> {
    const { store } = this.options;
    for (let i = 0; i < BOOK_CLAIM_TRIES; i += 1) {
      const claim = await store.claim(BOOK_KEY, holder, BOOK_LEASE_MS);
      if (claim.kind === "claimed") return parseBook(claim.checkpoint ?? EMPTY_BOOK);
      if (claim.kind !== "held") return undefined;
      await new Promise((r) => setTimeout(r, Math.min(claim.remainingMs, 50 * 2 ** i)));
      if (this.closed) return undefined;
    }
    return undefined;
  }

  private async runCycle(): Promise<CycleReport> {
    const { store, log, observer } = this.options;
    const now = this.now();
    const holder = `${this.podId}/${randomUUID()}`;
    let book: Book | undefined;
    try {
      book = await this.claimBook(holder);
      if (!book) log.info("schedule book busy; scheduling the horizon only this cycle");
    } catch (error) {
      log.warn({ err: error }, "schedule book unavailable; scheduling the horizon only this cycle");
    }
    try {
      const report = await this.schedule(book, now);
      if (book) {
        const written = await store.setCheckpoint(BOOK_KEY, holder, report.book);
        if (!written)
          log.warn("schedule book claim lost before it was written; the next cycle repeats the work");
      }
      const result = {
        booked: book !== undefined,
        scheduled: report.scheduled,
        caughtUp: report.caughtUp,
        outdated: report.outdated,
      };
      observer?.cycle?.({ pod: this.podId, ...result });
      return result;
    } finally {
      if (book)
        await store.release(BOOK_KEY, holder).catch((error: unknown) => log.warn({ err: error }, "release"));
    }
  }

  private async schedule(
    initial: Book | undefined,
    now: number,
  ): Promise<{ book: Book; scheduled: number; caughtUp: number; outdated: string[] }> {
    const { log, observer } = this.options;
    const own = this.options.schedules;
    let book = initial ?? EMPTY_BOOK;
    if (initial) {
      const identity = {
        id: this.podId,
        startedAt: this.startedAt,
        schedules: Object.fromEntries(own.map((s) => [s.name, s.fingerprint])),
      };
      const reconciled = reconcile(initial, identity, now, this.options.podTtlMs ?? 3 * this.horizonMs);
      book = reconciled.book;
      for (const change of reconciled.changes) {
        const cancelled = await this.cancel(change.cancel);
        log.info({ schedule: change.name, from: change.from, to: change.to, cancelled }, "schedule changed");
        observer?.changed?.({ schedule: change.name, from: change.from, to: change.to, cancelled });
      }
    }
    let scheduled = 0;
    let caughtUp = 0;
    const outdated: string[] = [];
    for (const schedule of own) {
      if (initial && !isCurrent(book, schedule.name, schedule.fingerprint)) {
        outdated.push(schedule.name);
        continue;
      }
      const state = initial ? book.schedules[schedule.name] : undefined;
      const plan = planTicks({
        trigger: schedule.trigger,
        catchUp: schedule.catchUp,
        now,
        horizonMs: this.horizonMs,
        through: state?.through,
        ...(this.options.maxCatchUpMs !== undefined ? { maxCatchUpMs: this.options.maxCatchUpMs } : {}),
      });
      const known = new Set(
        state?.ticks.filter((t) => t.fingerprint === schedule.fingerprint).map((t) => t.at),
      );
      const entity = this.entityOf(schedule);
      const sender = this.sender(entity);
      if (plan.catchUp.length > 0) {
        const catchUp = plan.catchUp.map((at) => tickMessage(schedule, at, this.options.toMessage));
        await this.abortable((abortSignal) => sender.sendMessages(catchUp, { abortSignal }));
        caughtUp += plan.catchUp.length;
        log.info(
          {
            schedule: schedule.name,
            gap: plan.gap,
            ticks: plan.catchUp.map((t) => new Date(t).toISOString()),
          },
          "catch-up ticks sent",
        );
      } else if (plan.gap) {
        log.info(
          { schedule: schedule.name, gap: plan.gap, catchUp: schedule.catchUp },
          "missed ticks not caught up",
        );
      }
      const records: { at: number; entity: string; seqs: string[] }[] = [];
      for (const at of plan.future) {
        if (known.has(at)) continue;
        const message: ServiceBusMessage = tickMessage(schedule, at, this.options.toMessage);
        const seqs = await this.abortable((abortSignal) =>
          sender.scheduleMessages(message, new Date(at), { abortSignal }),
        );
        // An absorbed duplicate returns no usable sequence number (the emulator: 0).
        records.push({ at, entity, seqs: seqs.filter((s) => s.greaterThan(0)).map((s) => s.toString()) });
        scheduled += 1;
      }
      if (initial) book = recordScheduled(book, schedule.name, schedule.fingerprint, records, plan.through);
    }
    if (outdated.length > 0) log.debug({ outdated }, "a newer pod's schedule definitions are current");
    return { book, scheduled, caughtUp, outdated };
  }

  /** Cancels scheduled ticks; failures are logged (the tick handler skips stale ticks anyway). */
  private async cancel(
    ticks: readonly { readonly entity: string; readonly seqs: readonly string[] }[],
  ): Promise<number> {
    const byEntity = new Map<string, string[]>();
    for (const t of ticks) byEntity.set(t.entity, [...(byEntity.get(t.entity) ?? []), ...t.seqs]);
    let cancelled = 0;
    for (const [entity, seqs] of byEntity) {
      if (seqs.length === 0) continue;
      try {
        const sender = this.sender(entity);
        await this.abortable((abortSignal) =>
          sender.cancelScheduledMessages(
            seqs.map((s) => Long.fromString(s)),
            { abortSignal },
          ),
        );
        cancelled += seqs.length;
      } catch (error) {
        this.options.log.warn(
          { err: error, entity, seqs },
          "cancelling stale ticks failed; the tick handler will skip them",
        );
      }
    }
    return cancelled;
  }

  /** Stops the timer, waits for a cycle in flight, closes the senders (idempotent). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closed = true;
    for (const send of this.sends) send.abort();
    await this.running?.catch(() => {
      /* reported by the cycle's caller */
    });
    const senders = [...this.senders.values()];
    this.senders.clear();
    await Promise.all(senders.map((s) => s.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
