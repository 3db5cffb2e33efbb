/**
 * The tick handler wrapper. A tick is an ordinary message handled by the ordinary handler of its
 * topic/subscription/subject (retries, dead-lettering, ledger and tracing as for any message);
 * this wrapper, around every handler, adds what ticks need:
 *
 * 1. stale ticks: a tick whose definition is no longer current, and which fires after the change,
 *    is completed without running the handler (counted as `stale`; see `tickVerdict`);
 * 2. `overlap: false`: the handler runs under a lease on the schedule's running flag, renewed
 *    every third of the lease; a tick that finds the flag held (the previous tick still runs) is
 *    completed without running (counted as `overlap`). A holder that dies leaves the flag to expire;
 * 3. the last outcome of each schedule is recorded for `sbworker schedules`.
 * Messages without the tick properties go straight to the handler.
 */
import { randomUUID } from "node:crypto";
import type { AnyHandler, HandlerRegistry } from "../../handlers/registry.js";
import type { TopologyShape } from "../../topics/dsl.js";
import type { ScheduleDefinition } from "../../topics/scheduleDsl.js";
import type { LedgerStore } from "../ledger/types.js";
import { tickVerdict, type ScheduleState } from "./book.js";
import { readTick } from "./message.js";
import { readBook, runningKey, writeLastOutcome, type LastOutcome, type ScheduleObserver } from "./state.js";

export interface TickHandlerOptions {
  readonly schedules: readonly ScheduleDefinition[];
  /** The store the schedulers share (the book, running flags, last outcomes). */
  readonly store: LedgerStore;
  readonly observer?: ScheduleObserver;
  /** Names this process in lease holders (default: a random id). */
  readonly podId?: string;
  readonly now?: () => number;
}

/**
 * The registry with every handler wrapped (messages without tick properties pass straight
 * through). Every handler, not only those of subjects this worker's schedules publish: a tick of a
 * schedule this worker does not know (removed, or declared by newer code) must still be judged.
 */
export function withScheduleTicks<T extends TopologyShape>(
  registry: HandlerRegistry<T>,
  options: TickHandlerOptions,
): HandlerRegistry<T> {
  const wrapped = new Map<AnyHandler, AnyHandler>();
  return {
    topology: registry.topology,
    subscriptions: () => registry.subscriptions(),
    lookup(topic, subscription, subject) {
      const handler = registry.lookup(topic, subscription, subject);
      if (!handler) return handler;
      let w = wrapped.get(handler);
      if (!w) wrapped.set(handler, (w = tickHandler(handler, options)));
      return w;
    },
  };
}

function tickHandler(handler: AnyHandler, options: TickHandlerOptions): AnyHandler {
  const { store, observer } = options;
  const byName = new Map(options.schedules.map((s) => [s.name, s]));
  const podId = options.podId ?? randomUUID().slice(0, 8);
  const now = options.now ?? Date.now;

  return async (payload, ctx) => {
    const tick = readTick(ctx.message.applicationProperties);
    if (!tick) return handler(payload, ctx);
    const own = byName.get(tick.name);
    const log = ctx.log.child({ schedule: tick.name, tick: tick.iso });
    const holder = `${podId}/${randomUUID()}`;
    const record = (outcome: LastOutcome["outcome"], error?: unknown): Promise<void> =>
      writeLastOutcome(store, tick.name, holder, {
        tick: tick.iso,
        outcome,
        at: now(),
        attempt: ctx.attempt,
        ...(error !== undefined
          ? { error: error instanceof Error ? error.message : JSON.stringify(error) }
          : {}),
      }).then(
        () => undefined,
        (e: unknown) => log.warn({ err: e }, "could not record the tick's outcome"),
      );

    let state: ScheduleState | undefined;
    try {
      state = (await readBook(store))?.schedules[tick.name];
    } catch (error) {
      log.warn({ err: error }, "schedule book unavailable; judging the tick by this worker's definition");
    }
    if (tickVerdict(tick, state, own?.fingerprint) === "stale") {
      log.info({ fingerprint: tick.fingerprint, current: state?.fingerprint }, "stale tick skipped");
      observer?.tickSkipped?.({ schedule: tick.name, tick: tick.iso, why: "stale" });
      await record("skipped-stale");
      return;
    }

    const exclusive = own ? !own.overlap : false;
    const leaseMs = own?.leaseMs ?? 60_000;
    let renewal: NodeJS.Timeout | undefined;
    if (exclusive) {
      const claim = await store.claim(runningKey(tick.name), holder, leaseMs);
      if (claim.kind === "held") {
        log.info({ holder: claim.holder }, "previous tick still running; tick skipped (overlap: false)");
        observer?.tickSkipped?.({ schedule: tick.name, tick: tick.iso, why: "overlap" });
        await record("skipped-overlap");
        return;
      }
      renewal = setInterval(
        () => {
          store.renew(runningKey(tick.name), holder, leaseMs).then(
            (r) => {
              if (r.kind !== "renewed") log.warn({ result: r.kind }, "lost the schedule's running flag");
            },
            (e: unknown) => log.warn({ err: e }, "renewing the schedule's running flag failed"),
          );
        },
        Math.floor(leaseMs / 3),
      );
      renewal.unref();
    }
    try {
      await handler(payload, ctx);
      observer?.tickRan?.({ schedule: tick.name, tick: tick.iso, ok: true });
      await record("succeeded");
    } catch (error) {
      observer?.tickRan?.({ schedule: tick.name, tick: tick.iso, ok: false });
      await record("failed", error);
      throw error;
    } finally {
      if (renewal) clearInterval(renewal);
      if (exclusive)
        await store
          .release(runningKey(tick.name), holder)
          .catch((e: unknown) => log.warn({ err: e }, "releasing the schedule's running flag failed"));
    }
  };
}
