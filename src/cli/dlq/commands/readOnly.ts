/**
 * The start shared by the read-only reports over one entity (`peek`, `stats`): options, help,
 * the entity, the selection, and one scan of the dead-letter queue (a peek: nothing is locked).
 */
import type { CliIo } from "../../command.js";
import { parseSource, type SourceEntity } from "../entity.js";
import {
  CONNECTION_OPTIONS,
  expectPositionals,
  loadSelection,
  parseOptions,
  SELECTION_OPTIONS,
} from "../options.js";
import { scanSelection, type ScanResult } from "../scan.js";
import { withClient } from "./shared.js";

export interface ReadOnlyScan extends ScanResult {
  readonly source: SourceEntity;
  readonly json: boolean;
  /** The time the selection's relative bounds (`--since 2h`) were taken from. */
  readonly now: Date;
}

/** The scan, or undefined when `--help` was asked for (and printed). */
export async function readOnlyScan(
  argv: readonly string[],
  io: CliIo,
  help: string,
): Promise<ReadOnlyScan | undefined> {
  const { values, positionals } = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    ...SELECTION_OPTIONS,
    json: { type: "boolean" },
  });
  if (values.help) {
    io.stdout.write(help);
    return undefined;
  }
  const [entity] = expectPositionals(positionals, ["entity"]);
  const source = parseSource(entity);
  const now = new Date();
  const selection = await loadSelection(values, io, now);
  const result = await withClient(io, values["connection-string"], (client) =>
    scanSelection(client, source, selection, io.signal),
  );
  return { ...result, source, json: values.json === true, now };
}
