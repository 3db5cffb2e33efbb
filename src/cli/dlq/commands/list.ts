/**
 * `dlq list`: every queue and subscription with its dead-letter count.
 *
 * Until the administration API is wired in (issue 9), counts come from peeking each entity's
 * dead-letter queue, and the entities from `--entities a,b/c` or else the topology in src/topics.
 * Peeking reads every message, so this is slow on large queues; the admin API's
 * `deadLetterMessageCount` will replace it.
 */
import type { CliIo } from "../../command.js";
import { subscriptionKeys, topology } from "../../../topics/index.js";
import { parseSource, sourceLabel, type SourceEntity } from "../entity.js";
import { oneLine } from "../errors.js";
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  expectPositionals,
  loadSelection,
  parseOptions,
  SELECTION_HELP,
  SELECTION_OPTIONS,
} from "../options.js";
import { scanSelection } from "../scan.js";
import { renderTable } from "../table.js";
import { withClient, writeJson } from "./shared.js";

export const LIST_HELP = `usage: sbworker dlq list [--entities q1,topic/sub,...] [selection] [--json]

Every queue and subscription with its dead-letter count (and oldest dead letter), sorted by count
(highest first), then name. Entities: --entities, else every subscription of the topology.
With a selection, only matching dead letters are counted.

${SELECTION_HELP}
${CONNECTION_HELP}`;

interface Row {
  readonly entity: string;
  readonly deadLetters: number | undefined;
  readonly oldestEnqueuedTimeUtc: Date | undefined;
  readonly error?: string;
}

export async function listCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    ...SELECTION_OPTIONS,
    entities: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) {
    io.stdout.write(LIST_HELP);
    return 0;
  }
  expectPositionals(positionals, []);
  const names =
    values.entities === undefined
      ? subscriptionKeys(topology)
      : values.entities
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
  const sources: SourceEntity[] = [...new Set(names)].map((n) => parseSource(n));
  const selection = await loadSelection(values, io, new Date());
  const rows = await withClient(io, values["connection-string"], async (client) => {
    const result: Row[] = [];
    for (const source of sources) {
      if (io.signal.aborted) break;
      try {
        const { selected } = await scanSelection(client, source, selection, io.signal);
        const oldest = selected
          .map((s) => s.view.enqueuedTimeUtc)
          .filter((d): d is Date => d !== undefined)
          .sort((a, b) => a.getTime() - b.getTime())[0];
        result.push({
          entity: sourceLabel(source),
          deadLetters: selected.length,
          oldestEnqueuedTimeUtc: oldest,
        });
      } catch (error) {
        // One missing or forbidden entity must not hide the counts of the others.
        result.push({
          entity: sourceLabel(source),
          deadLetters: undefined,
          oldestEnqueuedTimeUtc: undefined,
          error: oneLine(error),
        });
      }
    }
    return result;
  });
  rows.sort((a, b) => (b.deadLetters ?? -1) - (a.deadLetters ?? -1) || a.entity.localeCompare(b.entity));
  if (values.json) writeJson(io, rows);
  else
    io.stdout.write(
      renderTable(
        ["ENTITY", "DEAD LETTERS", "OLDEST", "ERROR"],
        rows.map((r) => [r.entity, r.deadLetters ?? "?", r.oldestEnqueuedTimeUtc, r.error]),
        100,
      ),
    );
  const failed = rows.filter((r) => r.error !== undefined).length;
  // Nothing readable at all is a connection problem (2); some entities failing is partial (1).
  return failed === 0 ? 0 : failed === rows.length ? 2 : 1;
}
