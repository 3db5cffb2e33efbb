/**
 * Which dead letters a command works on. Every criterion given must hold (AND); a repeated
 * `--reason` / `--subject` / `--session-id` means any of those values (OR). `--limit` keeps the
 * first N matches in sequence-number order.
 *
 * Parsing is pure (the message-ids file is read by the caller) so it is unit-tested as a table.
 */
import { compileSqlFilter, isSqlSyntaxError, type SqlFilter } from "../../emulator/sql/index.js";
import { DlqError } from "./errors.js";
import { toFilterable, type MessageView } from "./view.js";

export interface Selection {
  readonly reasons?: ReadonlySet<string>;
  readonly description?: RegExp;
  readonly subjects?: ReadonlySet<string>;
  readonly sessionIds?: ReadonlySet<string>;
  /** Enqueued at or after. */
  readonly since?: Date;
  /** Enqueued strictly before. */
  readonly until?: Date;
  /** Inclusive bounds. */
  readonly sequence?: { readonly from?: bigint; readonly to?: bigint };
  readonly messageIds?: ReadonlySet<string>;
  readonly where?: SqlFilter;
  readonly limit?: number;
}

/** The raw option values, as node:util parseArgs returns them (see ./options.ts). */
export interface SelectionOptions {
  readonly reason?: readonly string[];
  readonly description?: string;
  readonly subject?: readonly string[];
  readonly "session-id"?: readonly string[];
  readonly since?: string;
  readonly until?: string;
  readonly sequence?: string;
  readonly where?: string;
  readonly limit?: string;
}

const UNITS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * `--since` / `--until`: an ISO-8601 date-time (`2024-05-01T10:00:00Z`; a date alone is UTC
 * midnight) or an age relative to now (`30m`, `2h`, `7d`: that long ago).
 */
export function parseTime(text: string, now: Date, option: string): Date {
  const relative = /^(\d+)([smhdw])$/.exec(text.trim());
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const date = new Date(text.trim());
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new DlqError(
    "BadUsage",
    `${option}: expected an ISO-8601 time (2024-05-01T10:00:00Z) or an age such as 30m, 2h, 7d; got "${text}"`,
  );
}

/** `--sequence A-B`, `A-`, `-B` or `A` (inclusive). */
export function parseSequenceRange(text: string): { from?: bigint; to?: bigint } {
  const match = /^\s*(\d+)?\s*(-)?\s*(\d+)?\s*$/.exec(text);
  const [, a, dash, b] = match ?? [];
  if (!match || (a === undefined && b === undefined) || (dash === undefined && b !== undefined)) {
    throw new DlqError("BadUsage", `--sequence: expected A-B, A-, -B or A (sequence numbers), got "${text}"`);
  }
  const from = a === undefined ? undefined : BigInt(a);
  const to = dash === undefined ? from : b === undefined ? undefined : BigInt(b);
  if (from !== undefined && to !== undefined && to < from)
    throw new DlqError("BadUsage", `--sequence: the range ${text} is empty (end before start)`);
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

export function parseLimit(text: string, option = "--limit"): number {
  if (!/^\s*[1-9]\d*\s*$/.test(text))
    throw new DlqError("BadUsage", `${option}: expected a positive integer, got "${text}"`);
  return Number(text);
}

/** One message id per line; blank lines and lines starting with `#` are ignored. */
export function parseMessageIdList(text: string): Set<string> {
  return new Set(
    text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#")),
  );
}

function nonEmptySet(values: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return values && values.length > 0 ? new Set(values) : undefined;
}

export function parseSelection(
  options: SelectionOptions,
  context: { readonly now: Date; readonly messageIds?: ReadonlySet<string> },
): Selection {
  let description: RegExp | undefined;
  if (options.description !== undefined) {
    try {
      description = new RegExp(options.description);
    } catch (error) {
      throw new DlqError(
        "BadUsage",
        `--description: invalid regular expression: ${(error as Error).message}`,
      );
    }
  }
  let where: SqlFilter | undefined;
  if (options.where !== undefined) {
    try {
      where = compileSqlFilter(options.where);
    } catch (error) {
      if (isSqlSyntaxError(error)) throw new DlqError("BadUsage", `--where: ${error.message}`);
      throw error;
    }
  }
  const since = options.since === undefined ? undefined : parseTime(options.since, context.now, "--since");
  const until = options.until === undefined ? undefined : parseTime(options.until, context.now, "--until");
  if (since && until && until <= since) throw new DlqError("BadUsage", "--until must be later than --since");
  const selection: Selection = {
    reasons: nonEmptySet(options.reason),
    description,
    subjects: nonEmptySet(options.subject),
    sessionIds: nonEmptySet(options["session-id"]),
    since,
    until,
    sequence: options.sequence === undefined ? undefined : parseSequenceRange(options.sequence),
    messageIds: context.messageIds,
    where,
    limit: options.limit === undefined ? undefined : parseLimit(options.limit),
  };
  // Drop undefined keys so `isEmptySelection` and JSON summaries stay readable.
  return Object.fromEntries(Object.entries(selection).filter(([, v]) => v !== undefined));
}

/** Whether a message matches every criterion (the limit is applied by the caller, in order). */
export function matchesSelection(selection: Selection, view: MessageView): boolean {
  const s = selection;
  if (s.reasons && !s.reasons.has(view.deadLetterReason ?? "")) return false;
  if (s.description && !s.description.test(view.deadLetterErrorDescription ?? "")) return false;
  if (s.subjects && !s.subjects.has(view.subject ?? "")) return false;
  if (s.sessionIds && !s.sessionIds.has(view.sessionId ?? "")) return false;
  const enqueued = view.enqueuedTimeUtc?.getTime();
  if (s.since && (enqueued === undefined || enqueued < s.since.getTime())) return false;
  if (s.until && (enqueued === undefined || enqueued >= s.until.getTime())) return false;
  if (s.sequence) {
    const seq = view.sequenceNumber;
    if (seq === undefined) return false;
    if (s.sequence.from !== undefined && seq < s.sequence.from) return false;
    if (s.sequence.to !== undefined && seq > s.sequence.to) return false;
  }
  if (s.messageIds && !s.messageIds.has(view.messageId ?? "")) return false;
  if (s.where && !s.where.matches(toFilterable(view))) return false;
  return true;
}

export function isEmptySelection(selection: Selection): boolean {
  return Object.keys(selection).length === 0;
}
