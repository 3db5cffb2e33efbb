/**
 * Schedule integration fixtures: an emulator with a manual clock, a test topology with one tick
 * topic, and "pods" (a worker plus its scheduler, cycled by the test instead of a timer), driven
 * step by step: cycle every pod, advance the clock by a third of the horizon, wait for the ticks
 * that became due to be handled. No wall-clock waiting on ticks.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ManualClock, type Emulator } from "../../../src/emulator/index.js";
import { defineHandlers } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import type { ScheduleDefinition } from "../../../src/topics/scheduleDsl.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";
import type { ScheduleObserver } from "../../../src/worker/schedules/state.js";
import { ticksBetween } from "../../../src/worker/schedules/ticks.js";
import { deletePrefix, REDIS_URL } from "../../helpers/redis.js";
import {
  entity,
  eventually,
  fastClientOptions,
  startTestEmulator,
  testConfig,
  testLogger,
} from "../worker/helpers.js";

export const Tick = z.object({ schedule: z.string(), at: z.string(), version: z.string() });

export function tickTopology(windowMs: number) {
  const ticks = defineTopic({
    name: `ticks-${randomUUID().slice(0, 8)}`,
    duplicateDetection: { windowMs },
    messages: { Tick },
    subscriptions: {
      run: {
        subjects: ["Tick"],
        maxDeliveryCount: 10,
        lockDurationMs: 5 * 60_000,
        policy: { maxAttempts: 3, concurrency: 4 },
      },
    },
  });
  return { ticks } as const;
}
export type TickTopology = ReturnType<typeof tickTopology>;

export interface Run {
  readonly schedule: string;
  readonly at: string;
  readonly version: string;
  readonly pod: string;
  readonly attempt: number;
}

export interface Pod {
  readonly name: string;
  readonly worker: Worker;
  cycle(): Promise<void>;
  close(): Promise<void>;
}

export type Ledger = "redis" | "memory";

/** One test's world: emulator, clock, Redis prefix, the runs every pod's handler recorded. */
export class World {
  readonly runs: Run[] = [];
  readonly pods = new Set<Pod>();
  /** Every schedule any pod declared: steps stop at their fire times. */
  private readonly schedules = new Map<string, ScheduleDefinition>();
  /** Handler behaviour: throw for these schedule names. */
  readonly failing = new Set<string>();
  readonly prefix = `sbw-it-sched:${randomUUID().slice(0, 8)}:`;
  private constructor(
    readonly emulator: Emulator,
    readonly clock: ManualClock,
    readonly topology: TickTopology,
    readonly horizonMs: number,
  ) {}

  static async start(options: { start: number; horizonMs: number; windowMs?: number }): Promise<World> {
    const clock = new ManualClock(options.start);
    const topology = tickTopology(options.windowMs ?? 5 * 60_000);
    const emulator = await startTestEmulator(topology, { clock });
    return new World(emulator, clock, topology, options.horizonMs);
  }

  async startPod(
    name: string,
    schedules: readonly ScheduleDefinition[],
    ledger: Ledger = "redis",
    observer?: ScheduleObserver,
    env: Record<string, string> = {},
  ): Promise<Pod> {
    for (const s of schedules) this.schedules.set(`${s.name}:${s.fingerprint}`, s);
    const registry = defineHandlers(this.topology, {
      ticks: {
        run: {
          Tick: async (payload, ctx) => {
            await Promise.resolve();
            if (this.failing.has(payload.schedule)) throw new Error(`tick ${payload.schedule} fails`);
            this.runs.push({ ...payload, pod: name, attempt: ctx.attempt });
          },
        },
      },
    });
    const worker = await startWorker({
      config: testConfig(this.emulator, {
        SBW_LEDGER: ledger,
        ...(ledger === "redis" ? { REDIS_URL, SBW_LEDGER_PREFIX: this.prefix } : {}),
        ...env,
      }),
      registry,
      logger: testLogger().child({ pod: name }),
      clientOptions: fastClientOptions,
      schedules,
      scheduling: {
        now: () => this.clock.now(),
        autoCycle: false,
        horizonMs: this.horizonMs,
        podId: name,
        ...(observer ? { observer } : {}),
      },
    });
    const pod: Pod = {
      name,
      worker,
      cycle: async () => {
        await worker.scheduler?.cycle();
      },
      close: async () => {
        this.pods.delete(pod);
        await worker.close();
      },
    };
    this.pods.add(pod);
    return pod;
  }

  /**
   * Cycles every pod, then moves the clock by `ms` (a third of the horizon by default), stopping
   * early at the next fire time of any schedule. Ticks thus become due at the end of an advance:
   * a tick delivered in the middle of a long advance would see its lock expire at once.
   */
  async step(ms = Math.floor(this.horizonMs / 3)): Promise<void> {
    for (const pod of this.pods) await pod.cycle();
    const now = this.clock.now();
    let target = now + ms;
    for (const s of this.schedules.values()) {
      const next = ticksBetween(s.trigger, now, target, 1)[0];
      if (next !== undefined) target = Math.min(target, next);
    }
    this.clock.advance(target - now);
  }

  /** Steps until the clock reaches `until`, waiting after each step for the due ticks to be handled. */
  async runUntil(until: number, expected: () => number): Promise<void> {
    while (this.clock.now() < until) {
      await this.step(Math.min(Math.floor(this.horizonMs / 3), until - this.clock.now()));
      await this.settled(expected());
    }
  }

  /** Waits until `count` runs are recorded and the subscription holds nothing active or locked. */
  async settled(count: number): Promise<void> {
    await eventually(() => {
      if (this.runs.length < count) return false;
      const e = entity(this.emulator, this.topology.ticks.name, "run");
      return e.active === 0 && e.locked === 0;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pods].map((p) => p.close()));
    await this.emulator.close();
    await deletePrefix(REDIS_URL, this.prefix);
  }
}

/** How many multiples of `periodMs` (epoch-aligned ticks) fall in (from, to]. */
export function between(from: number, to: number, periodMs: number): number {
  return Math.floor(to / periodMs) - Math.floor(from / periodMs);
}

/** Runs per `schedule@at`, for exactly-once assertions. */
export function runCounts(runs: readonly Run[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(`${r.schedule}@${r.at}`, (counts.get(`${r.schedule}@${r.at}`) ?? 0) + 1);
  return counts;
}
