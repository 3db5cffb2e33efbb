/** `dlq stats <entity>`: dead letters grouped by reason, subject and age; oldest and newest. */
import type { CliIo } from "../../command.js";
import { sourceLabel } from "../entity.js";
import { CONNECTION_HELP, SELECTION_HELP } from "../options.js";
import { computeStats } from "../stats.js";
import { renderTable } from "../table.js";
import { readOnlyScan } from "./readOnly.js";
import { writeJson } from "./shared.js";

export const STATS_HELP = `usage: sbworker dlq stats <queue|topic/subscription> [selection] [--json]

Counts the selected dead letters by DeadLetterReason, by subject and by age (time since they were
enqueued), with the oldest and newest enqueued times. Read-only (peek).

${SELECTION_HELP}
${CONNECTION_HELP}`;

export async function statsCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const scan = await readOnlyScan(argv, io, STATS_HELP);
  if (!scan) return 0;
  const { source, total, selected, json, now } = scan;
  const stats = computeStats(
    selected.map((s) => s.view),
    now,
  );
  if (json) {
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
