/** `dlq stats <entity>`: dead letters grouped by reason, subject and age; oldest and newest. */
import type { CliIo } from "../../command.js";
import { parseSource, sourceLabel } from "../entity.js";
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
import { computeStats } from "../stats.js";
import { renderTable } from "../table.js";
import { withClient, writeJson } from "./shared.js";

export const STATS_HELP = `usage: sbworker dlq stats <queue|topic/subscription> [selection] [--json]

Counts the selected dead letters by DeadLetterReason, by subject and by age (time since they were
enqueued), with the oldest and newest enqueued times. Read-only (peek).

${SELECTION_HELP}
${CONNECTION_HELP}`;

export async function statsCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    ...SELECTION_OPTIONS,
    json: { type: "boolean" },
  });
  if (values.help) {
    io.stdout.write(STATS_HELP);
    return 0;
  }
  const [entity] = expectPositionals(positionals, ["entity"]);
  const source = parseSource(entity);
  const now = new Date();
  const selection = await loadSelection(values, io, now);
  const { total, selected } = await withClient(io, values["connection-string"], (client) =>
    scanSelection(client, source, selection, io.signal),
  );
  const stats = computeStats(
    selected.map((s) => s.view),
    now,
  );
  if (values.json) {
    writeJson(io, { entity: sourceLabel(source), total, ...stats });
    return 0;
  }
  const out: string[] = [
    `${sourceLabel(source)}: ${stats.count} dead letters selected of ${total}`,
    `oldest enqueued: ${stats.oldestEnqueuedTimeUtc?.toISOString() ?? "-"}`,
    `newest enqueued: ${stats.newestEnqueuedTimeUtc?.toISOString() ?? "-"}`,
    "",
    renderTable(
      ["REASON", "COUNT"],
      stats.byReason.map((g) => [g.key, g.count]),
    ),
    renderTable(
      ["SUBJECT", "COUNT"],
      stats.bySubject.map((g) => [g.key, g.count]),
    ),
    renderTable(
      ["AGE", "COUNT"],
      stats.byAge.map((g) => [g.key, g.count]),
    ),
  ];
  io.stdout.write(out.join("\n"));
  return 0;
}
