#!/usr/bin/env node
/**
 * Fixes a settlement bug in rhea 3.0.5, the AMQP library under @azure/service-bus (run by
 * `postinstall`, and by the Dockerfile after its `npm ci --ignore-scripts`).
 *
 * rhea batches the dispositions written in one event-loop turn into ranges of consecutive
 * deliveries with the same outcome. Its check for "the same outcome" is skipped for the second
 * delivery of a range (`first !== last` is still false there), so `complete(a)` and
 * `deadLetterMessage(b)` (or `abandonMessage(b)`) issued in the same turn for consecutive
 * deliveries go out as ONE frame, "accepted a..b": the broker completes b, a dead-letter or an
 * abandon is lost, and the SDK reports success. Real Service Bus receives the same frame. See
 * docs/reliability.md ("Settlements and the rhea batching bug") and the regression test
 * test/integration/emulator/mixed-dispositions.test.ts.
 *
 * The fix compares outcomes for every delivery but the first of a range. Idempotent; exits 1
 * when rhea's code is neither the known buggy nor the fixed form (a new rhea: check it again).
 * Does nothing when sbworker is installed as another project's dependency, unless `--force`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BUGGY = "if ((first !== last && !message.are_outcomes_equivalent(last.state, delivery.state))";
const FIXED = "if ((first !== delivery && !message.are_outcomes_equivalent(last.state, delivery.state))";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "package.json"));

/** Every rhea the SDK can load: from the project, and from the SDK's own packages. */
function rheaCopies() {
  const from = [root];
  for (const pkg of ["@azure/service-bus", "@azure/core-amqp", "rhea-promise"]) {
    try {
      from.push(path.dirname(require.resolve(`${pkg}/package.json`)));
    } catch {
      // not installed (e.g. --omit=dev of something optional): nothing to patch there
    }
  }
  const files = new Set();
  for (const dir of from) {
    try {
      files.add(createRequire(path.join(dir, "package.json")).resolve("rhea/lib/session.js"));
    } catch {
      // no rhea reachable from here
    }
  }
  return [...files];
}

// Installed as another project's dependency (the publisher library): leave that project's
// packages alone. The fix is for this repository's own installs, which run the worker.
if (root.split(path.sep).includes("node_modules") && !process.argv.includes("--force")) {
  console.log(
    "patch-rhea: installed as a dependency; not touching the host project's rhea " +
      "(run node_modules/sbworker/scripts/patch-rhea.mjs --force to patch it)",
  );
  process.exit(0);
}

const files = rheaCopies();
if (files.length === 0) {
  console.log("patch-rhea: rhea is not installed; nothing to patch");
  process.exit(0);
}
for (const file of files) {
  const text = readFileSync(file, "utf8");
  if (text.includes(FIXED)) {
    console.log(`patch-rhea: already fixed: ${path.relative(root, file)}`);
  } else if (text.includes(BUGGY)) {
    writeFileSync(file, text.replace(BUGGY, FIXED));
    console.log(`patch-rhea: fixed disposition batching in ${path.relative(root, file)}`);
  } else {
    console.error(
      `patch-rhea: ${path.relative(root, file)} has neither the known buggy nor the fixed line; ` +
        "check rhea's write_dispositions by hand (scripts/patch-rhea.mjs says what to look for)",
    );
    process.exit(1);
  }
}
