/**
 * One log line per outage, not one per failed attempt. While the namespace is unreachable every
 * receive loop fails about once a second (each session slot on its own), and a pod that logs each
 * failure with its stack floods the log pipeline, which is billed by the gigabyte. So a streak of
 * failures logs: its first failure (with the error), each new kind of error at once, known ones
 * again at most once per `everyMs` (with the count so far), and one line when it ends. The
 * receive-error metric still counts every failure (./observer.ts).
 */
import type { Logger } from "pino";

export interface ErrorStreakLines {
  /** The first failure of a streak, and each new kind of error in it (warn, with `err`). */
  readonly failed: string;
  /** The same error again, at most once per `everyMs` (warn, with `err`, `errors`, `since`). */
  readonly stillFailing: string;
  /** The streak ended (info, with `errors` and `failedForMs`). */
  readonly recovered: string;
}

export interface ErrorStreakOptions {
  readonly log: Logger;
  readonly lines: ErrorStreakLines;
  /** Default 30 s. */
  readonly everyMs?: number;
  /** Seam for tests. */
  readonly now?: () => number;
}

const DEFAULT_STREAK_LOG_EVERY_MS = 30_000;
/** Past this many kinds in one streak, further new kinds wait for the periodic line. */
const MAX_KINDS = 8;

/** What makes two failures "the same error": class, code and message. */
function kindOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}|${typeof code === "string" ? code : ""}|${error.message}`;
}

export class ErrorStreak {
  private since: number | undefined;
  private lastAt: number | undefined;
  private errors = 0;
  private lastLineAt = 0;
  /** The kinds of error this streak has logged (errors that alternate are each logged once). */
  private readonly kinds = new Set<string>();
  private readonly everyMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ErrorStreakOptions) {
    this.everyMs = options.everyMs ?? DEFAULT_STREAK_LOG_EVERY_MS;
    this.now = options.now ?? Date.now;
  }

  /** When the running streak's first failure happened; undefined while nothing fails. */
  get failingSince(): number | undefined {
    return this.since;
  }

  /** When the running streak's latest failure happened. */
  get lastFailureAt(): number | undefined {
    return this.lastAt;
  }

  /** `fields` go on the lines this failure writes (e.g. the SDK's error source). */
  failed(error: unknown, fields?: Record<string, unknown>): void {
    const now = this.now();
    const kind = kindOf(error);
    this.errors += 1;
    this.lastAt = now;
    const { log, lines } = this.options;
    if (this.since === undefined || (!this.kinds.has(kind) && this.kinds.size < MAX_KINDS)) {
      this.since ??= now;
      this.kinds.add(kind);
      this.lastLineAt = now;
      log.warn({ ...fields, err: error }, lines.failed);
    } else if (now - this.lastLineAt >= this.everyMs) {
      this.lastLineAt = now;
      const since = new Date(this.since).toISOString();
      log.warn({ ...fields, err: error, errors: this.errors, since }, lines.stillFailing);
    }
  }

  /** Called on every success; cheap when no streak is running (the hot path). */
  recovered(): void {
    if (this.since === undefined) return;
    this.options.log.info(
      { errors: this.errors, failedForMs: this.now() - this.since },
      this.options.lines.recovered,
    );
    this.since = this.lastAt = undefined;
    this.errors = 0;
    this.kinds.clear();
  }
}

/** The lines of a plain consumer's receive loop (the SDK's `processError`). */
export const RECEIVE_LINES: ErrorStreakLines = {
  failed: "receive error",
  stillFailing: "receive still failing",
  recovered: "receiving again",
};

/** The lines of a session consumer's accept loop (every slot shares one streak). */
export const ACCEPT_LINES: ErrorStreakLines = {
  failed: "accepting a session failed",
  stillFailing: "accepting sessions still failing",
  recovered: "accepting sessions again",
};

/** The lines of the job ledger's store (Redis) as deliveries find it unreachable (./jobs/runtime.ts). */
export const LEDGER_LINES: ErrorStreakLines = {
  failed: "the job ledger is unavailable; deferring the message",
  stillFailing: "the job ledger is still unavailable; deferring messages",
  recovered: "the job ledger is available again",
};
