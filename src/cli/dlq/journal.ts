/**
 * The replay/purge journal: one JSON line per event, appended as it happens.
 *
 *   {"type":"run","command":"replay","entity":"orders/audit","target":"orders/audit","at":"..."}
 *   {"type":"message","seq":"42","messageId":"a","status":"sent","newMessageId":"a~orders/audit~dlq42","at":"..."}
 *   {"type":"message","seq":"42","messageId":"a","status":"completed","at":"..."}
 *
 * Status order for one dead letter: `sent` (the new message is accepted by the broker) is written
 * and flushed to disk *before* the DLQ copy is completed, then `completed`. So after a crash:
 * - `completed` (or `purged`): done; `--resume` skips it.
 * - `sent` without `completed`: the replay exists; `--resume` completes the DLQ copy without
 *   sending again.
 * - nothing, `failed`, `abandoned`: still in the DLQ only (or, if the process died after the send
 *   but before `sent` reached the file, in both places: the next replay sends the same MessageId,
 *   which duplicate detection absorbs where the target enables it).
 * `skipped` (loop guard) is informational; the message stays in the DLQ.
 *
 * A torn last line (the process killed mid-write) is ignored when reading.
 */
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { DlqError } from "./errors.js";
import { oneLine } from "../oneLine.js";

export type JournalStatus = "sent" | "completed" | "purged" | "failed" | "abandoned" | "skipped";

export interface JournalRun {
  readonly type: "run";
  readonly command: "replay" | "purge";
  readonly entity: string;
  readonly target?: string;
  readonly at: string;
}

export interface JournalEntry {
  readonly type: "message";
  readonly seq: string;
  readonly messageId?: string;
  readonly status: JournalStatus;
  readonly newMessageId?: string;
  readonly error?: string;
  readonly at: string;
}

export type JournalLine = JournalRun | JournalEntry;

/** What a previous run left behind, per DLQ sequence number. */
export interface ResumeState {
  readonly runs: readonly JournalRun[];
  /** Completed or purged: nothing left to do. */
  readonly done: ReadonlySet<string>;
  /** Sent but not completed: complete the DLQ copy, do not send again. Maps seq to new message id. */
  readonly sent: ReadonlyMap<string, string | undefined>;
}

export function parseJournal(text: string, file: string): ResumeState {
  const runs: JournalRun[] = [];
  const done = new Set<string>();
  const sent = new Map<string, string | undefined>();
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // Only the last line may be torn (SIGKILL mid-write); anything earlier is corruption.
      if (index >= lines.length - 2) return;
      throw new DlqError("BadFile", `${file}:${index + 1}: not a journal line`);
    }
    const entry = parsed as Partial<JournalLine> | null;
    if (entry?.type === "run") runs.push(entry as JournalRun);
    else if (entry?.type === "message" && typeof entry.seq === "string") {
      if (entry.status === "completed" || entry.status === "purged") {
        done.add(entry.seq);
        sent.delete(entry.seq);
      } else if (entry.status === "sent" && !done.has(entry.seq)) sent.set(entry.seq, entry.newMessageId);
    } else throw new DlqError("BadFile", `${file}:${index + 1}: not a journal line`);
  });
  return { runs, done, sent };
}

export function readJournal(path: string): ResumeState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new DlqError("BadFile", `--resume: cannot read ${path}: ${oneLine(error)}`);
  }
  return parseJournal(text, path);
}

/** A journal must belong to the same command and entity to be resumed. */
export function checkResumable(
  state: ResumeState,
  command: JournalRun["command"],
  entity: string,
  file: string,
): void {
  const first = state.runs[0];
  if (first === undefined)
    throw new DlqError("JournalMismatch", `${file} is not a dlq journal (no run line)`);
  if (first.command !== command || first.entity !== entity)
    throw new DlqError(
      "JournalMismatch",
      `${file} is the journal of "dlq ${first.command} ${first.entity}", not of "dlq ${command} ${entity}"`,
    );
}

/** Appends lines synchronously: a line written is in the kernel before the next broker call. */
export class JournalWriter {
  private fd: number | undefined;

  private constructor(
    fd: number,
    private readonly clock: () => Date,
  ) {
    this.fd = fd;
  }

  static open(path: string, clock: () => Date = () => new Date()): JournalWriter {
    try {
      return new JournalWriter(openSync(path, "a"), clock);
    } catch (error) {
      throw new DlqError("BadFile", `--journal: cannot open ${path}: ${oneLine(error)}`);
    }
  }

  run(line: Omit<JournalRun, "type" | "at">): void {
    this.write({ type: "run", ...line, at: this.clock().toISOString() });
  }

  /**
   * `sent` is also flushed to the disk: it is the record that lets `--resume` complete without
   * resending, so it must survive a power loss, not only a killed process.
   */
  entry(line: Omit<JournalEntry, "type" | "at">): void {
    this.write({ type: "message", ...line, at: this.clock().toISOString() });
    if (line.status === "sent" && this.fd !== undefined) fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private write(line: JournalLine): void {
    if (this.fd === undefined) throw new Error("journal is closed");
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }
}
