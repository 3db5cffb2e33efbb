/**
 * The benchmark result format. Every suite produces a list of measurements; the runner writes
 * them to `bench/results/<suite>.json` as `{ name, value, unit, baseline, ratio }` objects.
 *
 * `ratio` is always oriented so that higher is better and `ratio >= target` means good:
 * - throughput (higher is better): `ratio = value / baseline`;
 * - cost (latency, start time, memory; lower is better): `ratio = baseline / value`;
 * - budget (an absolute limit such as "at most 2048 bytes"): `baseline` is the budget itself and
 *   `ratio = budget / value`, so `ratio >= 1` means within budget.
 *
 * Each measurement also carries its target and whether it passed; those, and the raw samples,
 * go to `bench/results/details/<suite>.json` (the main file keeps exactly the five fields).
 */

export interface Measurement {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly ratio: number;
}

export type Direction = "higher-is-better" | "lower-is-better" | "budget";

export interface Target {
  /** Human-readable target, e.g. "ratio >= 0.8" or "value < 100 ms". */
  readonly description: string;
  readonly pass: boolean;
}

export interface Result extends Measurement {
  readonly direction: Direction;
  readonly target: Target;
  /** Raw samples and anything else worth keeping; written to the details file only. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** A one-line remark printed under the table (not part of the results file). */
  readonly note?: string;
}

export const DEFAULT_MIN_RATIO = 0.8;

interface Common {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly details?: Readonly<Record<string, unknown>>;
  /** Set when the measurement could not be completed (the server broke): the target fails. */
  readonly failure?: string;
}

function withFailure(r: Result, failure: string | undefined): Result {
  if (failure === undefined) return r;
  return {
    ...r,
    target: { description: `${r.target.description}; FAILED: ${failure}`, pass: false },
    details: { ...r.details, failure },
  };
}

/** Higher is better (messages/s): ratio = value / baseline; passes when ratio >= minRatio. */
export function throughput(m: Common & { readonly baseline: number; readonly minRatio?: number }): Result {
  const minRatio = m.minRatio ?? DEFAULT_MIN_RATIO;
  const ratio = m.baseline > 0 ? m.value / m.baseline : 0;
  return withFailure(
    {
      name: m.name,
      value: m.value,
      unit: m.unit,
      baseline: m.baseline,
      ratio,
      direction: "higher-is-better",
      target: { description: `ratio >= ${minRatio}`, pass: ratio >= minRatio },
      ...(m.details ? { details: m.details } : {}),
    },
    m.failure,
  );
}

/**
 * Lower is better (ms, bytes): ratio = baseline / value. With `maxValue` the target is the
 * absolute limit `value < maxValue` (the ratio is then informative); otherwise ratio >= minRatio.
 */
export function cost(
  m: Common & { readonly baseline: number; readonly maxValue?: number; readonly minRatio?: number },
): Result {
  const ratio = m.value > 0 ? m.baseline / m.value : Infinity;
  const minRatio = m.minRatio ?? DEFAULT_MIN_RATIO;
  const target: Target =
    m.maxValue !== undefined
      ? { description: `value < ${m.maxValue} ${m.unit}`, pass: m.value < m.maxValue }
      : { description: `ratio >= ${minRatio}`, pass: ratio >= minRatio };
  return withFailure(
    {
      name: m.name,
      value: m.value,
      unit: m.unit,
      baseline: m.baseline,
      ratio,
      direction: "lower-is-better",
      target,
      ...(m.details ? { details: m.details } : {}),
    },
    m.failure,
  );
}

/** An absolute budget (lower is better): baseline = budget, ratio = budget / value, pass when ratio >= 1. */
export function budget(m: Common & { readonly budget: number }): Result {
  const ratio = m.value > 0 ? m.budget / m.value : Infinity;
  return withFailure(
    {
      name: m.name,
      value: m.value,
      unit: m.unit,
      baseline: m.budget,
      ratio,
      direction: "budget",
      target: { description: `value <= ${m.budget} ${m.unit} (ratio >= 1)`, pass: m.value <= m.budget },
      ...(m.details ? { details: m.details } : {}),
    },
    m.failure,
  );
}

/** Rounds for the results file: 3 significant decimals for small numbers, integers for big ones. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n);
  if (abs >= 10) return Math.round(n * 10) / 10;
  return Math.round(n * 1000) / 1000;
}

export function toMeasurement(r: Result): Measurement {
  return {
    name: r.name,
    value: round(r.value),
    unit: r.unit,
    baseline: round(r.baseline),
    ratio: round(r.ratio),
  };
}
