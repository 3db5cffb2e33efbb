/** Small measurement helpers shared by suites. */
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function now(): number {
  return performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let cachedGc: (() => void) | undefined;

/**
 * A full garbage collection, also when node was started without `--expose-gc` (the flag is
 * switched on at run time and `gc` fetched from a fresh context). Used between repetitions so
 * that one run's garbage is not collected during the next run's timing.
 */
export function collectGarbage(): void {
  if (cachedGc === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === "function") {
      cachedGc = g;
    } else {
      setFlagsFromString("--expose-gc");
      cachedGc = runInNewContext("gc") as () => void;
    }
  }
  cachedGc();
}

/** Several full collections with turns of the event loop in between (finalizers, weak refs). */
export async function settleGarbage(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i += 1) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
