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

/**
 * Runs `reps` repetitions of each variant, interleaved A B B A A B … so that slow drift of the
 * machine (thermal, background load, heap growth) does not favour either side.
 */
export async function interleaved<K extends string>(
  variants: readonly K[],
  reps: number,
  run: (variant: K, rep: number) => Promise<number>,
): Promise<Record<K, number[]>> {
  const out = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<K, number[]>;
  for (let rep = 0; rep < reps; rep += 1) {
    const order = rep % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      collectGarbage();
      out[v].push(await run(v, rep));
    }
  }
  return out;
}
