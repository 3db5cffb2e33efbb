/**
 * Option tables shared by the dlq subcommands, and a parseArgs wrapper whose errors are usage
 * errors (exit 2, one line) instead of node's multi-line TypeErrors.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { CliIo } from "../command.js";
import { DlqError } from "./errors.js";
import { oneLine } from "../oneLine.js";
import { parseMessageIdList, parseSelection, type Selection, type SelectionOptions } from "./selection.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export const CONNECTION_OPTIONS = {
  "connection-string": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/**
 * `--stop-after-failures N`: replay, purge and send-file start no more messages once N have
 * failed in a row. A target that is gone, a missing Send right or a partition fails every message
 * alike, and each failure can cost the send's retries plus a settlement timeout. The default is
 * high enough that a few bad messages (too large for the target, say) do not stop a run.
 */
export const STOP_AFTER_FAILURES_OPTION = {
  "stop-after-failures": { type: "string" },
} as const satisfies Options;

export const STOP_AFTER_FAILURES_HELP = `  --stop-after-failures N
                         start no more messages once N have failed in a row (default 10;
                         0: never stop); the rest stays where it is
`;

export function stopAfterFailures(values: { readonly "stop-after-failures"?: string | undefined }): number {
  return nonNegativeInt(values["stop-after-failures"], "--stop-after-failures", 10);
}

export const SELECTION_OPTIONS = {
  reason: { type: "string", multiple: true },
  description: { type: "string" },
  subject: { type: "string", multiple: true },
  "session-id": { type: "string", multiple: true },
  since: { type: "string" },
  until: { type: "string" },
  sequence: { type: "string" },
  "message-ids": { type: "string" },
  where: { type: "string" },
  limit: { type: "string" },
} as const satisfies Options;

export const SELECTION_HELP = `Selection (all given criteria must hold; repeat --reason/--subject/--session-id for "any of"):
  --reason R            DeadLetterReason equals R
  --description REGEX   DeadLetterErrorDescription matches REGEX
  --subject S           subject (label) equals S
  --session-id ID       session id equals ID
  --since T, --until T  enqueued time: ISO-8601 (2024-05-01T10:00Z) or an age (30m, 2h, 7d)
  --sequence A-B        sequence numbers A to B inclusive (also A-, -B, A)
  --message-ids FILE    message ids, one per line (# comments)
  --where SQL           a Service Bus SQL filter, e.g. "sys.Label = 'OrderPlaced' AND region = 'eu'"
  --limit N             at most N messages (the first N in sequence order)
`;

export const CONNECTION_HELP = `Connection: --connection-string, else SERVICEBUS_CONNECTION_STRING, else SERVICEBUS_NAMESPACE
  with DefaultAzureCredential (SBW_CREDENTIAL=managed-identity, AZURE_CLIENT_ID for a user-assigned identity).
`;

export function parseOptions<T extends Options>(
  argv: readonly string[],
  options: T,
): {
  values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>>["values"];
  positionals: string[];
} {
  try {
    const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    throw new DlqError("BadUsage", oneLine(error));
  }
}

/** Reads `--message-ids` (relative to the working directory) and parses the selection. */
export async function loadSelection(
  values: SelectionOptions & { readonly "message-ids"?: string },
  io: Pick<CliIo, "cwd">,
  now: Date,
): Promise<Selection> {
  let messageIds: ReadonlySet<string> | undefined;
  const file = values["message-ids"];
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, file), "utf8");
    } catch (error) {
      throw new DlqError("BadFile", `--message-ids: cannot read ${file}: ${oneLine(error)}`);
    }
    messageIds = parseMessageIdList(text);
  }
  return parseSelection(values, { now, ...(messageIds ? { messageIds } : {}) });
}

/** Exactly `count` positionals, or a usage error naming what was expected. */
export function expectPositionals(positionals: readonly string[], names: readonly string[]): string[] {
  if (positionals.length < names.length)
    throw new DlqError(
      "BadUsage",
      `missing ${names
        .slice(positionals.length)
        .map((n) => `<${n}>`)
        .join(" ")}`,
    );
  if (positionals.length > names.length)
    throw new DlqError("BadUsage", `unexpected argument "${positionals[names.length]}"`);
  return [...positionals];
}

export function positiveInt(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\s*[1-9]\d*\s*$/.test(text))
    throw new DlqError("BadUsage", `${option}: expected a positive integer, got "${text}"`);
  return Number(text);
}

export function nonNegativeInt(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\s*\d+\s*$/.test(text))
    throw new DlqError("BadUsage", `${option}: expected a non-negative integer, got "${text}"`);
  return Number(text);
}

export function positiveNumber(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0)
    throw new DlqError("BadUsage", `${option}: expected a positive number, got "${text}"`);
  return value;
}
