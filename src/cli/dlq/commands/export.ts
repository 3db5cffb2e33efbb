/** `dlq export <entity> --out file.jsonl`: the selected dead letters, byte-exact (see ../codec.ts). */
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import type { CliIo } from "../../command.js";
import { toRecord } from "../codec.js";
import { parseSource, sourceLabel } from "../entity.js";
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
import { withClient } from "./shared.js";

export const EXPORT_HELP = `usage: sbworker dlq export <queue|topic/subscription> --out FILE.jsonl [selection] [--force]

Writes the selected dead letters, one JSON object per line: body (bytes preserved: JSON, text or
base64), properties, application properties, dead-letter reason and broker annotations.
Read-only (peek). Refuses to overwrite FILE unless --force. Resubmit with "dlq send-file".

${SELECTION_HELP}
${CONNECTION_HELP}`;

export async function exportCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    ...SELECTION_OPTIONS,
    out: { type: "string" },
    force: { type: "boolean" },
  });
  if (values.help) {
    io.stdout.write(EXPORT_HELP);
    return 0;
  }
  const [entity] = expectPositionals(positionals, ["entity"]);
  const source = parseSource(entity);
  if (values.out === undefined || values.out === "") throw new DlqError("BadUsage", "--out FILE is required");
  const selection = await loadSelection(values, io, new Date());
  const path = resolve(io.cwd, values.out);
  // Open before connecting: a bad path should fail before any broker work.
  let file;
  try {
    file = await open(path, values.force ? "w" : "wx");
  } catch (error) {
    throw new DlqError("BadFile", `--out: cannot create ${values.out}: ${oneLine(error)}`);
  }
  try {
    const { total, selected } = await withClient(io, values["connection-string"], (client) =>
      scanSelection(client, source, selection, io.signal),
    );
    const label = sourceLabel(source);
    for (const { message } of selected) await file.write(`${JSON.stringify(toRecord(message, label))}\n`);
    io.stdout.write(`exported ${selected.length} of ${total} dead letters from ${label} to ${values.out}\n`);
  } finally {
    await file.close();
  }
  return 0;
}
