/** `dlq peek <entity>`: the selected dead letters as a table or JSON; nothing is locked or removed. */
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
import { renderTable } from "../table.js";
import type { MessageView } from "../view.js";
import { withClient, writeJson } from "./shared.js";

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
  const { values, positionals } = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    ...SELECTION_OPTIONS,
    json: { type: "boolean" },
  });
  if (values.help) {
    io.stdout.write(PEEK_HELP);
    return 0;
  }
  const [entity] = expectPositionals(positionals, ["entity"]);
  const source = parseSource(entity);
  const selection = await loadSelection(values, io, new Date());
  const { total, selected } = await withClient(io, values["connection-string"], (client) =>
    scanSelection(client, source, selection, io.signal),
  );
  const views = selected.map((s) => s.view);
  if (values.json) {
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
