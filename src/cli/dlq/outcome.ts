/** What happened to each selected dead letter, and the summary printed at the end of a run. */
import { renderTable } from "./table.js";

export type OutcomeStatus =
  /** Sent to the target and removed from the DLQ. */
  | "replayed"
  /** Sent from a file (send-file). */
  | "sent"
  /** Removed from the DLQ (purge). */
  | "purged"
  /** Left in the DLQ on purpose: replayed `--max-replays` times already. */
  | "skipped"
  /** The journal of a previous run says it is done. */
  | "already-done"
  /** Send or settlement failed; see `error`. The message is in the DLQ (or, if only completing failed, in both). */
  | "failed"
  /** Not attempted because the run was interrupted; still in the DLQ. */
  | "interrupted"
  /** Selected when planning but not received when locking (removed or locked by someone else meanwhile). */
  | "not-found";

export interface Outcome {
  readonly seq: string;
  readonly messageId: string | undefined;
  readonly status: OutcomeStatus;
  readonly newMessageId?: string;
  readonly error?: string;
}

const ORDER: readonly OutcomeStatus[] = [
  "replayed",
  "sent",
  "purged",
  "already-done",
  "skipped",
  "failed",
  "interrupted",
  "not-found",
];

export function countByStatus(outcomes: readonly Outcome[]): Map<OutcomeStatus, number> {
  const counts = new Map<OutcomeStatus, number>();
  for (const o of outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  return counts;
}

/** The summary table, then the failed messages one per line (they are why the exit code is 1). */
export function renderSummary(outcomes: readonly Outcome[]): string {
  const counts = countByStatus(outcomes);
  const rows = ORDER.filter((s) => counts.has(s)).map((s) => [s, counts.get(s)]);
  let text = renderTable(["OUTCOME", "MESSAGES"], [...rows, ["total", outcomes.length]]);
  const failed = outcomes.filter((o) => o.status === "failed");
  if (failed.length > 0) {
    text += `\nfailed:\n${renderTable(
      ["SEQ", "MESSAGE ID", "ERROR"],
      failed.map((o) => [o.seq, o.messageId, o.error]),
      200,
    )}`;
  }
  const skipped = outcomes.filter((o) => o.status === "skipped");
  if (skipped.length > 0) {
    text += `\nskipped by the loop guard (--max-replays):\n${renderTable(
      ["SEQ", "MESSAGE ID", "REASON"],
      skipped.map((o) => [o.seq, o.messageId, o.error]),
      200,
    )}`;
  }
  return text;
}

/** 0: everything selected is done; 1: something failed, was interrupted or was not found. */
export function exitCodeOf(outcomes: readonly Outcome[]): number {
  return outcomes.some((o) => o.status === "failed" || o.status === "interrupted" || o.status === "not-found")
    ? 1
    : 0;
}
