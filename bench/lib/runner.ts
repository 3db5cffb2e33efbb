/**
 * Runs suites, prints a table and writes `bench/results/<suite>.json` (plus a details file). A run
 * that measures less or otherwise than the full suite (`--quick`, `--modes=...`, `--reps=1`,
 * profiling flags) writes under `bench/results/partial/` instead, which git ignores: the committed
 * files are always a whole suite's run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { repoRoot } from "./child.js";
import { round, toMeasurement } from "./result.js";
import type { Result } from "./result.js";

export interface SuiteContext {
  /** Smaller counts and fewer repetitions, for a fast sanity run. */
  readonly quick: boolean;
  /** `--key=value` / `--flag` options from the command line, for suite-specific settings. */
  readonly options: ReadonlyMap<string, string>;
  /** Progress output (stderr, so stdout stays the table). */
  readonly log: (line: string) => void;
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  run(ctx: SuiteContext): Promise<Result[]>;
}

export const resultsDir = path.join(repoRoot, "bench", "results");

/** Options that change how a run is driven or reported, not what it measures. */
const NEUTRAL_OPTIONS: ReadonlySet<string> = new Set(["check", "in-process"]);

/** Where a run with these options writes its results: partial runs stay out of the committed files. */
export function resultsDirFor(quick: boolean, options: ReadonlyMap<string, string>): string {
  const partial = quick || [...options.keys()].some((k) => !NEUTRAL_OPTIONS.has(k));
  return partial ? path.join(resultsDir, "partial") : resultsDir;
}

export interface SuiteOutcome {
  readonly suite: string;
  readonly results: readonly Result[];
  readonly seconds: number;
  readonly file: string;
}

export async function runSuite(suite: Suite, ctx: SuiteContext): Promise<SuiteOutcome> {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const results = await suite.run(ctx);
  const seconds = (Date.now() - started) / 1000;
  const dir = resultsDirFor(ctx.quick, ctx.options);
  const file = path.join(dir, `${suite.name}.json`);
  await mkdir(path.join(dir, "details"), { recursive: true });
  await writeFile(file, `${JSON.stringify(results.map(toMeasurement), null, 2)}\n`);
  const details = {
    suite: suite.name,
    description: suite.description,
    finishedAt: new Date().toISOString(),
    seconds: round(seconds),
    quick: ctx.quick,
    options: Object.fromEntries(ctx.options),
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
      // Other processes on the machine skew timings; the 1/5/15-minute load averages tell.
      loadAverageBefore: loadBefore.map(round),
      loadAverageAfter: os.loadavg().map(round),
    },
    results,
  };
  await writeFile(path.join(dir, "details", `${suite.name}.json`), `${JSON.stringify(details, null, 2)}\n`);
  return { suite: suite.name, results, seconds, file };
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const r = round(n);
  return Math.abs(r) >= 1000 ? r.toLocaleString("en-US") : String(r);
}

/** A plain-text table of one suite's results. */
export function formatTable(outcome: SuiteOutcome): string {
  const header = ["measurement", "value", "unit", "baseline", "ratio", "target", "ok"];
  const rows = outcome.results.map((r) => [
    r.name,
    fmt(r.value),
    r.unit,
    fmt(r.baseline),
    fmt(r.ratio),
    r.target.description,
    r.target.pass ? "PASS" : "FAIL",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const numeric = new Set([1, 3, 4]);
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const notes = outcome.results.flatMap((r, i) => (r.note ? [`  [${i + 1}] ${r.note}`] : []));
  return [
    `suite ${outcome.suite} (${fmt(outcome.seconds)} s) -> ${path.relative(repoRoot, outcome.file)}`,
    line(header),
    rule,
    ...rows.map(line),
    ...(notes.length > 0 ? ["notes:", ...notes] : []),
  ].join("\n");
}
