/**
 * Schedules in the worker: the glue `startWorker` calls (the tick handler wrapper around the
 * registry, the scheduler after the consumers), and the public surface of this folder.
 * docs/schedules.md explains the design.
 */
import type { ServiceBusClient } from "@azure/service-bus";
import type { Logger } from "pino";
import type { HandlerRegistry } from "../../handlers/registry.js";
import type { TopologyShape } from "../../topics/dsl.js";
import type { ScheduleDefinition } from "../../topics/scheduleDsl.js";
import { MemoryLedgerStore } from "../ledger/memory.js";
import type { LedgerStore } from "../ledger/types.js";
import { withScheduleTicks } from "./handler.js";
import type { ToMessage } from "./message.js";
import { Scheduler } from "./scheduler.js";
import type { ScheduleObserver } from "./state.js";

/** Scheduler settings and test seams (the environment sets `enabled` and `horizonMs`). */
export interface SchedulingOptions {
  /** false: this worker handles ticks but schedules none (`SBW_SCHEDULES=off`). Default true. */
  readonly enabled?: boolean;
  readonly horizonMs?: number;
  readonly clockSkewMs?: number;
  /** Seam: the clock (tests pass the emulator's manual clock). */
  readonly now?: () => number;
  /** false: no timer, the caller runs `worker.scheduler.cycle()`. */
  readonly autoCycle?: boolean;
  readonly podId?: string;
  readonly observer?: ScheduleObserver;
}

/** What the worker's schedules share: the ledger store, or a process-local one without a ledger. */
export interface ScheduleRuntime {
  readonly store: LedgerStore;
  /** True when the store was created here (the ledger is off) and must be closed with it. */
  readonly owned: boolean;
}

export function scheduleRuntime(ledger: LedgerStore | undefined): ScheduleRuntime {
  return ledger ? { store: ledger, owned: false } : { store: new MemoryLedgerStore(), owned: true };
}

/** The registry with tick handling around the handlers that receive ticks. */
export function tickRegistry<T extends TopologyShape>(
  registry: HandlerRegistry<T>,
  schedules: readonly ScheduleDefinition[],
  runtime: ScheduleRuntime,
  options: SchedulingOptions | undefined,
): HandlerRegistry<T> {
  return withScheduleTicks(registry, {
    schedules,
    store: runtime.store,
    ...(options?.observer ? { observer: options.observer } : {}),
    ...(options?.podId ? { podId: options.podId } : {}),
    ...(options?.now ? { now: options.now } : {}),
  });
}

/** Starts the scheduler unless scheduling is off; its first cycle runs before this resolves. */
export async function startScheduler(args: {
  readonly schedules: readonly ScheduleDefinition[];
  readonly options: SchedulingOptions | undefined;
  readonly topology: TopologyShape;
  readonly client: ServiceBusClient;
  readonly toMessage: ToMessage;
  readonly runtime: ScheduleRuntime;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}): Promise<Scheduler | undefined> {
  const o = args.options ?? {};
  if (o.enabled === false) {
    args.log.info("scheduling is off for this worker (SBW_SCHEDULES=off); ticks are still handled");
    return undefined;
  }
  const scheduler = await Scheduler.start({
    schedules: args.schedules,
    topology: args.topology,
    client: args.client,
    toMessage: args.toMessage,
    store: args.runtime.store,
    log: args.log,
    ...(o.horizonMs !== undefined ? { horizonMs: o.horizonMs } : {}),
    ...(o.clockSkewMs !== undefined ? { clockSkewMs: o.clockSkewMs } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.autoCycle !== undefined ? { autoCycle: o.autoCycle } : {}),
    ...(o.podId ? { podId: o.podId } : {}),
    ...(o.observer ? { observer: o.observer } : {}),
    ...(args.signal ? { signal: args.signal } : {}),
  });
  args.log.info({ schedules: args.schedules.map((s) => s.name), pod: scheduler.podId }, "scheduler started");
  return scheduler;
}

export { Scheduler, checkSchedules, DEFAULT_HORIZON_MS, type CycleReport } from "./scheduler.js";
export { withScheduleTicks } from "./handler.js";
export { planTicks, type Plan, type PlanInput } from "./plan.js";
export { tickId, ticksBetween, nextTicks } from "./ticks.js";
export { SCHEDULE_PROPERTY, tickMessage, readTick } from "./message.js";
export type { ScheduleObserver, LastOutcome, TickOutcome } from "./state.js";
