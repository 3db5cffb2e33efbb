/** `dlq peek <entity>`: the selected dead letters as a table or JSON; nothing is locked or removed. */
import type { CliIo } from "../../command.js";
import { sourceLabel } from "../entity.js";
import { CONNECTION_HELP, SELECTION_HELP } from "../options.js";
import { renderTable } from "../table.js";
import type { MessageView } from "../view.js";
import { readOnlyScan } from "./readOnly.js";
import { writeJson } from "./shared.js";

export const PEEK_HELP = `usage: sbworker dlq peek <queue|topic/subscription> [selection] [--json]

Shows sequence number, message id, subject, session, reason, description, enqueued time and
replay count of each selected dead letter. Peeking locks and removes nothing.

${SELECTION_HELP}
${CONNECTION_HELP}`;

export function peekRow(view: MessageView): Record<string, unknown> {
  return {
    sequenceNumber: view.sequenceNumber,
    messageId: view.messageId,
    subject: view.subject,
    sessionId: view.sessionId,
    deadLetterReason: view.deadLetterReason,
    deadLetterErrorDescription: view.deadLetterErrorDescription,
    enqueuedTimeUtc: view.enqueuedTimeUtc,
    replayCount: view.replayCount,
  };
}

export async function peekCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const scan = await readOnlyScan(argv, io, PEEK_HELP);
  if (!scan) return 0;
  const { source, total, selected, json } = scan;
  const views = selected.map((s) => s.view);
  if (json) {
    writeJson(io, views.map(peekRow));
    return 0;
  }
  io.stdout.write(
    renderTable(
      ["SEQ", "MESSAGE ID", "SUBJECT", "SESSION", "REASON", "DESCRIPTION", "ENQUEUED", "REPLAYS"],
      views.map((v) => [
        v.sequenceNumber,
        v.messageId,
        v.subject,
        v.sessionId,
        v.deadLetterReason,
        v.deadLetterErrorDescription,
        v.enqueuedTimeUtc,
        v.replayCount,
      ]),
      40,
    ),
  );
  io.stdout.write(`${views.length} of ${total} dead letters in ${sourceLabel(source)}\n`);
  return 0;
}
