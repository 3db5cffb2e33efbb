/**
 * `dlq list`: every queue and subscription with its dead-letter count.
 *
 * With Manage rights the counts come from the administration API (runtime properties): every
 * queue and subscription of the namespace, or the `--entities` given, in one HTTPS request per
 * page or entity, without reading a message. When the API refuses (401/403: no Manage right) or
 * cannot be reached, one line on stderr says so and the counts come from peeking each entity's
 * dead-letter queue instead (Listen is enough): `--entities`, else the topology in src/topics.
 * A selection (`--reason`, `--where`, ...) needs the messages themselves, so it always peeks.
 */
import type { ServiceBusClient } from "@azure/service-bus";
import type { CliIo } from "../../command.js";
import { subscriptionKeys, topology } from "../../../topics/index.js";
import { AdminUnavailable, countAll, countEntities, openAdminClient, type AdminCount } from "../admin.js";
import { parseSource, sourceLabel, type SourceEntity } from "../entity.js";
import { DlqError } from "../errors.js";
import { oneLine } from "../../oneLine.js";
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
import type { Selection } from "../selection.js";
import { renderTable } from "../table.js";
import { withClient, writeJson } from "./shared.js";

export const LIST_HELP = `usage: sbworker dlq list [--entities q1,topic/sub,...] [selection] [--json]

Every queue and subscription with its dead-letter count, sorted by count (highest first), then name.

With Manage rights (Azure Service Bus Data Owner) the counts come from the administration API:
every queue and subscription in the namespace (or --entities), with active message counts, and no
message is read. Without them (401/403) or when the API is unreachable, one line on stderr says so
and each dead-letter queue is peeked instead (Listen is enough; also shows the oldest dead letter):
--entities, else every subscription of the topology. With a selection, only matching dead letters
are counted, which always peeks.

${SELECTION_HELP}
${CONNECTION_HELP}`;

interface PeekRow {
  readonly entity: string;
  readonly deadLetters: number | undefined;
  readonly oldestEnqueuedTimeUtc: Date | undefined;
  readonly error?: string;
}

type Counted<T extends { readonly deadLetters: number | undefined; readonly entity: string }> = T & {
  readonly source: "admin" | "peek";
};

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
  const named =
    values.entities === undefined
      ? undefined
      : [
          ...new Set(
            values.entities
              .split(",")
              .map((s) => s.trim())
              .filter((s) => s !== ""),
          ),
        ].map((n) => parseSource(n));
  const selection = await loadSelection(values, io, new Date());
  const selecting = Object.keys(SELECTION_OPTIONS).some(
    (key) => (values as Record<string, unknown>)[key] !== undefined,
  );
  if (!selecting) {
    try {
      const admin = await openAdminClient(io.env, values["connection-string"]);
      const rows = named ? await countEntities(admin, named, io.signal) : await countAll(admin, io.signal);
      return report(
        io,
        values.json === true,
        rows.map((r) => ({ ...r, source: "admin" as const })),
        ["ENTITY", "DEAD LETTERS", "ACTIVE", "ERROR"],
        (r: AdminCount) => [r.entity, r.deadLetters ?? "?", r.activeMessages ?? "?", r.error],
      );
    } catch (error) {
      if (io.signal.aborted) {
        io.stderr.write("sbworker dlq list: interrupted\n");
        return 1;
      }
      if (!(error instanceof AdminUnavailable))
        throw new DlqError("Connection", `administration API: ${oneLine(error)}`, { cause: error });
      const what = named ? "the given entities" : "the topology's subscriptions";
      io.stderr.write(
        `sbworker dlq list: administration API ${error.reason}; counting by peeking the dead-letter queues of ${what} instead\n`,
      );
    }
  }
  const sources = named ?? subscriptionKeys(topology).map((n) => parseSource(n));
  const rows = await withClient(io, values["connection-string"], (client) =>
    peekCounts(client, sources, selection, io.signal),
  );
  return report(
    io,
    values.json === true,
    rows.map((r) => ({ ...r, source: "peek" as const })),
    ["ENTITY", "DEAD LETTERS", "OLDEST", "ERROR"],
    (r: PeekRow) => [r.entity, r.deadLetters ?? "?", r.oldestEnqueuedTimeUtc, r.error],
  );
}

async function peekCounts(
  client: ServiceBusClient,
  sources: readonly SourceEntity[],
  selection: Selection,
  signal: AbortSignal,
): Promise<PeekRow[]> {
  const result: PeekRow[] = [];
  for (const source of sources) {
    if (signal.aborted) break;
    try {
      const { selected } = await scanSelection(client, source, selection, signal);
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
}

/** Sorted (most dead letters first, then name), as JSON or a table; the exit code. */
function report<
  T extends { readonly entity: string; readonly deadLetters: number | undefined; readonly error?: string },
>(
  io: CliIo,
  json: boolean,
  rows: Counted<T>[],
  headers: readonly string[],
  cells: (row: T) => Parameters<typeof renderTable>[1][number],
): number {
  rows.sort((a, b) => (b.deadLetters ?? -1) - (a.deadLetters ?? -1) || a.entity.localeCompare(b.entity));
  if (json) writeJson(io, rows);
  else io.stdout.write(renderTable(headers, rows.map(cells), 100));
  const failed = rows.filter((r) => r.error !== undefined).length;
  // Nothing readable at all is a connection problem (2); some entities failing is partial (1).
  return failed === 0 ? 0 : failed === rows.length ? 2 : 1;
}
