/**
 * The worker as production runs it: compiled by tsc (the image and `bin/sbworker.js` run
 * `dist/`), not through tsx. tsx wraps every function expression in a `__name` helper (a
 * defineProperty each time a closure is created), which costs measurable CPU per message on the
 * worker's hot path and nothing on the SDK's, whose code is plain JS from node_modules. Suites
 * that compare the worker's CPU per message with hand-written SDK code load the worker from here
 * (`--worker-from=source` measures the tsx path instead, as tests run it).
 *
 * The build goes to `.tmp/bench-dist` with `tsconfig.build.json` (what `npm run build` uses) and
 * is redone whenever a file under `src/` is newer than the last build.
 */
import { execFile } from "node:child_process";
import { readdir, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

import type * as RegistryModule from "../../src/handlers/registry.js";
import type * as MetricsModule from "../../src/telemetry/metrics.js";
import type * as PromiseContextModule from "../../src/telemetry/promiseContext.js";
import type * as SetupModule from "../../src/telemetry/setup.js";
import type * as TracingModule from "../../src/telemetry/tracing.js";
import type * as ConfigModule from "../../src/worker/config.js";
import type * as WorkerModule from "../../src/worker/worker.js";
import { repoRoot } from "./child.js";
import { choiceOption } from "./options.js";

/** The worker's entry points a suite uses (topologies are plain data: `defineTopic` from src is fine). */
export interface WorkerModules {
  readonly from: "compiled" | "source";
  readonly startWorker: typeof WorkerModule.startWorker;
  readonly loadConfig: typeof ConfigModule.loadConfig;
  readonly defineHandlers: typeof RegistryModule.defineHandlers;
  readonly createWorkerMetrics: typeof MetricsModule.createWorkerMetrics;
  readonly createWorkerTracing: typeof TracingModule.createWorkerTracing;
  readonly startTelemetry: typeof SetupModule.startTelemetry;
  readonly PromiseContextManager: typeof PromiseContextModule.PromiseContextManager;
}

const OUT_DIR = path.join(repoRoot, ".tmp", "bench-dist");
const STAMP = path.join(OUT_DIR, ".built");

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const t = entry.isDirectory() ? await newestMtime(full) : (await stat(full)).mtimeMs;
    newest = Math.max(newest, t);
  }
  return newest;
}

async function ensureBuilt(log: (line: string) => void): Promise<void> {
  const built = await stat(STAMP).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (built > (await newestMtime(path.join(repoRoot, "src")))) return;
  log(`compiling src/ to ${path.relative(repoRoot, OUT_DIR)} (tsc -p tsconfig.build.json)`);
  const startedAt = new Date();
  const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", OUT_DIR], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: unknown) => {
    // tsc still emits on type errors; a failed emit shows up as a missing module below.
    const out = (error as { stdout?: string }).stdout ?? "";
    log(`tsc reported errors (continuing with what it emitted):\n${out.slice(0, 2_000)}`);
  });
  // Stamped with the start: a file saved during the build makes the next run build again.
  await writeFile(STAMP, startedAt.toISOString());
  await utimes(STAMP, startedAt, startedAt);
}

/** The compiled file of `module` (e.g. "emulator/index"), built first if src/ changed. */
export async function compiledModuleUrl(module: string, log: (line: string) => void): Promise<string> {
  await ensureBuilt(log);
  return pathToFileURL(path.join(OUT_DIR, `${module}.js`)).href;
}

async function load<T>(from: WorkerModules["from"], module: string): Promise<T> {
  const file =
    from === "compiled" ? path.join(OUT_DIR, `${module}.js`) : path.join(repoRoot, "src", `${module}.ts`);
  return (await import(pathToFileURL(file).href)) as T;
}

export async function loadWorkerModules(
  from: WorkerModules["from"],
  log: (line: string) => void,
): Promise<WorkerModules> {
  if (from === "compiled") await ensureBuilt(log);
  const [worker, config, registry, metrics, tracing, setup, promiseContext] = await Promise.all([
    load<typeof WorkerModule>(from, "worker/worker"),
    load<typeof ConfigModule>(from, "worker/config"),
    load<typeof RegistryModule>(from, "handlers/registry"),
    load<typeof MetricsModule>(from, "telemetry/metrics"),
    load<typeof TracingModule>(from, "telemetry/tracing"),
    load<typeof SetupModule>(from, "telemetry/setup"),
    load<typeof PromiseContextModule>(from, "telemetry/promiseContext"),
  ]);
  return {
    from,
    startWorker: worker.startWorker,
    loadConfig: config.loadConfig,
    defineHandlers: registry.defineHandlers,
    createWorkerMetrics: metrics.createWorkerMetrics,
    createWorkerTracing: tracing.createWorkerTracing,
    startTelemetry: setup.startTelemetry,
    PromiseContextManager: promiseContext.PromiseContextManager,
  };
}

/** `--worker-from=compiled|source` (default compiled); `option` names another such flag. */
export function workerFromOption(
  options: ReadonlyMap<string, string>,
  option = "worker-from",
): WorkerModules["from"] {
  return choiceOption(options, option, ["compiled", "source"] as const, "compiled");
}
