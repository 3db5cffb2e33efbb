/**
 * Whether the rhea that @azure/service-bus loads still has the disposition batching bug that
 * scripts/patch-rhea.mjs fixes (`npm ci` runs it as postinstall; the Dockerfile runs it after its
 * `npm ci --ignore-scripts`). With the bug, a dead-letter or an abandon issued in the same
 * event-loop turn as a complete of the previous delivery is sent as a complete.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const BUGGY = "if ((first !== last && !message.are_outcomes_equivalent(last.state, delivery.state))";

let checked: { readonly present: boolean | undefined } | undefined;

/**
 * True: the bug is there; false: it is not; undefined: rhea's source could not be read. Read once
 * per process (the file does not change under a running process; tests start many workers).
 */
export function rheaSettlementBugPresent(): boolean | undefined {
  return (checked ??= { present: readCheck() }).present;
}

function readCheck(): boolean | undefined {
  try {
    const sdk = createRequire(import.meta.url).resolve("@azure/service-bus");
    const session = createRequire(sdk).resolve("rhea/lib/session.js");
    return readFileSync(session, "utf8").includes(BUGGY);
  } catch {
    return undefined;
  }
}
