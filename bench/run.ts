/**
 * Benchmark runner.
 *
 *   npm run bench                      # every suite
 *   npx tsx bench/run.ts emulator      # named suites only
 *   npx tsx bench/run.ts --quick       # smaller counts, for a fast sanity check
 *   npx tsx bench/run.ts --list        # the available suites
 *   npx tsx bench/run.ts --check       # exit 1 when a target is missed
 *
 * Other `--key=value` options are passed to the suites (see bench/README.md).
 */
import { suites } from "./suites/index.js";
import { formatTable, runSuite } from "./lib/runner.js";
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
