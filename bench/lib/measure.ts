/**
 * Helpers for suites that drive Service Bus clients against a shared emulator: filling an entity
 * with batches, counting completions with a stall watchdog, rates by wall clock and CPU time,
 * percentiles, and interleaved A/B repetitions.
 */
import { ServiceBusClient } from "@azure/service-bus";
import type { ServiceBusMessage } from "@azure/service-bus";

import { median, now } from "./stats.js";

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Sends `count` messages made by `make(i)` to a queue or topic, in batches, `parallel` batches in flight. */
export async function fillEntity(
  connectionString: string,
  entity: string,
  count: number,
  make: (i: number) => ServiceBusMessage,
  parallel = 4,
): Promise<void> {
  const client = new ServiceBusClient(connectionString);
  const sender = client.createSender(entity);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const batch = await sender.createMessageBatch();
      while (next < count) {
        if (!batch.tryAddMessage(make(next))) {
          if (batch.count === 0) throw new Error(`message ${next} does not fit in a batch`);
          break;
        }
        next += 1;
      }
      await sender.sendMessages(batch);
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, lane));
  } finally {
    await sender.close();
    await client.close();
  }
}

/** Messages per second by the wall clock, and per CPU-second of this process. */
export interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

/**
 * Counts completions towards `total`. Timing runs from the `skip`-th completion (or from
 * `begin()`) to the last; `done` rejects on `fail()` or when nothing happens for `stallMs`.
 */
export class Completion {
  count = 0;
  private t0 = 0;
  private t1 = 0;
  private c0: NodeJS.CpuUsage = process.cpuUsage();
  private cpuSeconds = 0;
  /** The kernel's share of {@link cpuSeconds} (socket writes, and waking the peer on loopback). */
  private systemSeconds = 0;
  private finished = false;
  private resolveDone: () => void = () => {};
  private rejectDone: (error: Error) => void = () => {};
  private readonly watchdog: NodeJS.Timeout;
  readonly done: Promise<void>;

  constructor(
    readonly total: number,
    readonly skip: number,
    stallMs = 15_000,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A rejection nobody awaits yet must not crash the process.
    this.done.catch(() => undefined);
    let last = -1;
    let lastProgress = now();
    this.watchdog = setInterval(() => {
      if (this.count !== last) {
        last = this.count;
        lastProgress = now();
      } else if (now() - lastProgress > stallMs) {
        this.fail(
          new Error(
            `stalled after ${this.count} of ${this.total} messages (no progress for ${stallMs / 1000} s)`,
          ),
        );
      }
    }, 250);
  }

  /** Starts the clock now (instead of at the `skip`-th completion). */
  begin(): void {
    this.t0 = now();
    this.c0 = process.cpuUsage();
  }

  tick(): void {
    if (this.finished) return;
    this.count += 1;
    if (this.count === this.skip) this.begin();
    if (this.count === this.total) {
      this.t1 = now();
      const c = process.cpuUsage(this.c0);
      this.cpuSeconds = (c.user + c.system) / 1e6;
      this.systemSeconds = c.system / 1e6;
      this.finish();
      this.resolveDone();
    }
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.finish();
    this.rejectDone(error);
  }

  get settled(): boolean {
    return this.finished;
  }

  /** Milliseconds from the start of the clock to the last completion. */
  get elapsedMs(): number {
    return this.t1 - this.t0;
  }

  rate(): Rate {
    const timed = this.total - this.skip;
    return { wall: (timed / this.elapsedMs) * 1000, cpu: timed / this.cpuSeconds };
  }

  /** The kernel's CPU per timed message, in µs (part of what {@link rate}'s `cpu` counts). */
  kernelMicrosPerMessage(): number {
    return (this.systemSeconds * 1e6) / (this.total - this.skip);
  }

  private finish(): void {
    this.finished = true;
    clearInterval(this.watchdog);
  }
}

/** Nearest-rank percentile (p in 0..100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export type Side = "sbworker" | "sdk";
export const SIDES: readonly Side[] = ["sbworker", "sdk"];

export interface Comparison {
  readonly samples: Record<Side, number[]>;
  readonly cpuSamples: Record<Side, number[]>;
  readonly errors: Record<Side, string[]>;
}

/**
 * One discarded warm-up run of each side, then `reps` interleaved repetitions (A B, B A, A B,
 * ...). After a failure that side's remaining runs are skipped (a failure can cost a stall).
 * `run` gets the side, the index of the run (for fresh entities) and whether it is a warm-up.
 */
export async function interleave(
  reps: number,
  run: (side: Side, index: number, warmup: boolean) => Promise<Rate>,
  log: (line: string) => void,
  label: string,
  warmups = 1,
): Promise<Comparison> {
  const out: Comparison = {
    samples: { sbworker: [], sdk: [] },
    cpuSamples: { sbworker: [], sdk: [] },
    errors: { sbworker: [], sdk: [] },
  };
  const schedule: { side: Side; warmup: boolean }[] = [];
  for (let w = 0; w < warmups; w += 1) for (const side of SIDES) schedule.push({ side, warmup: true });
  for (let r = 0; r < reps; r += 1)
    for (const side of r % 2 === 0 ? SIDES : [...SIDES].reverse()) schedule.push({ side, warmup: false });
  for (const [index, { side, warmup }] of schedule.entries()) {
    if (out.errors[side].length > 0) continue;
    try {
      const rate = await run(side, index, warmup);
      log(
        `${label}: ${warmup ? "warm-up " : ""}${side}: ${Math.round(rate.wall)} msg/s (${Math.round(rate.cpu)} per CPU-second)`,
      );
      if (!warmup) {
        out.samples[side].push(rate.wall);
        out.cpuSamples[side].push(rate.cpu);
      }
    } catch (error) {
      log(`${label}: ${warmup ? "warm-up " : ""}${side}: FAILED: ${errorText(error)}`);
      out.errors[side].push(`${warmup ? "warm-up: " : ""}${errorText(error)}`);
    }
  }
  return out;
}

/** The failures of a comparison as one line, or undefined. */
export function failureOf(c: Comparison): string | undefined {
  const parts = SIDES.filter((s) => c.errors[s].length > 0).map((s) => `${s}: ${c.errors[s].join("; ")}`);
  return parts.length > 0 ? parts.join(" | ") : undefined;
}

export function medianOr0(values: readonly number[]): number {
  return values.length > 0 ? median(values) : 0;
}

/** sbworker's messages per CPU-second over the SDK's (medians), when both sides have samples. */
export function cpuRatioOf(c: Comparison): number | undefined {
  return c.cpuSamples.sbworker.length > 0 && c.cpuSamples.sdk.length > 0
    ? median(c.cpuSamples.sbworker) / median(c.cpuSamples.sdk)
    : undefined;
}
