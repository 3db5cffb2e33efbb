/**
 * Benchmark runner.
 *
 *   npm run bench                      # every suite
 *   npx tsx bench/run.ts emulator      # named suites only
 *   npx tsx bench/run.ts --quick       # smaller counts, for a fast sanity check
 *   npx tsx bench/run.ts --list        # the available suites
 *   npx tsx bench/run.ts --check       # exit 1 when a target is missed
 *   npx tsx bench/run.ts --in-process  # several suites in this one process (default: one child each)
 *
 * Other `--key=value` options are passed to the suites (see bench/README.md).
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { suites } from "./suites/index.js";
import { isBenchOptionError } from "./lib/options.js";
import { formatTable, resultsDirFor, runSuite } from "./lib/runner.js";
import type { SuiteOutcome } from "./lib/runner.js";

function usage(): string {
  return `usage: tsx bench/run.ts [--quick] [--check] [--list] [--key=value ...] [suite ...]\nsuites: ${Object.keys(suites).join(", ")}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const options = new Map<string, string>();
  const names: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      if (eq < 0) options.set(arg.slice(2), "true");
      else options.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else {
      names.push(arg);
    }
  }
  if (options.has("help")) {
    console.log(usage());
    return 0;
  }
  if (options.has("list")) {
    for (const [name, load] of Object.entries(suites)) console.log(`${name}: ${(await load()).description}`);
    return 0;
  }
  const unknown = names.filter((n) => !(n in suites));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(", ")}\n${usage()}`);
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(suites);
  if (selected.length > 1 && !options.has("in-process")) return runEachInChild(selected, argv, options);
  const quick = options.get("quick") === "true";
  const outcomes: SuiteOutcome[] = [];
  for (const name of selected) {
    const suite = await suites[name]!();
    console.error(`== ${suite.name}: ${suite.description}${quick ? " (quick)" : ""}`);
    const outcome = await runSuite(suite, {
      quick,
      options,
      log: (line) => console.error(`  [${suite.name}] ${line}`),
    });
    outcomes.push(outcome);
    console.log(`${formatTable(outcome)}\n`);
  }
  const failed = outcomes.flatMap((o) =>
    o.results.filter((r) => !r.target.pass).map((r) => `${o.suite}: ${r.name}`),
  );
  if (failed.length > 0) console.log(`targets missed:\n  ${failed.join("\n  ")}`);
  else console.log("all targets met");
  return failed.length > 0 && options.has("check") ? 1 : 0;
}

/**
 * Several suites: each in a process of its own, one after the other, so no suite inherits another's
 * heap, JIT state or leftover handles (`--in-process` runs them all here, as before). Each child
 * prints its own table; the summary comes from the details files they write.
 */
async function runEachInChild(
  selected: readonly string[],
  argv: readonly string[],
  options: ReadonlyMap<string, string>,
): Promise<number> {
  const flags = argv.filter((a) => a.startsWith("--") && a !== "--check");
  const missed: string[] = [];
  for (const name of selected) {
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), name, ...flags],
        {
          stdio: "inherit",
        },
      );
      child.on("exit", (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      missed.push(`${name}: the suite exited with ${code}`);
      continue;
    }
    const dir = resultsDirFor(options.get("quick") === "true", options);
    const details = JSON.parse(await readFile(join(dir, "details", `${name}.json`), "utf8")) as {
      results: { name: string; target: { pass: boolean } }[];
    };
    for (const r of details.results) if (!r.target.pass) missed.push(`${name}: ${r.name}`);
  }
  if (missed.length > 0) console.log(`targets missed:\n  ${missed.join("\n  ")}`);
  else console.log("all targets met");
  return missed.length > 0 && options.has("check") ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // A bad option is the caller's to fix: one line, exit 2. Anything else keeps its stack.
    if (isBenchOptionError(error)) {
      console.error(`bench: ${error.message}`);
      process.exit(2);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
