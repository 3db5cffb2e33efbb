/**
 * `--stop-after-failures`: counts failed messages in a row (a success resets the count) and says
 * when a run should start no more. Replay, purge (./engine.ts) and send-file share it.
 */
import type { Outcome } from "./outcome.js";

export interface Stopped {
  readonly failures: number;
  readonly lastError: string;
}

export class FailureStreak {
  private inARow = 0;
  private stoppedAt: Stopped | undefined;

  /** `limit` 0: never stop. */
  constructor(private readonly limit: number) {}

  /** Counts one finished message. */
  record(outcome: Pick<Outcome, "status" | "error">): void {
    if (outcome.status !== "failed") {
      this.inARow = 0;
      return;
    }
    this.inARow += 1;
    if (this.limit > 0 && this.inARow >= this.limit && this.stoppedAt === undefined)
      this.stoppedAt = { failures: this.inARow, lastError: outcome.error ?? "failed" };
  }

  /** Set once `limit` messages have failed in a row: start no more. */
  get stopped(): Stopped | undefined {
    return this.stoppedAt;
  }

  /** Why a message was not started, once stopped. */
  reason(verb: string): string | undefined {
    return this.stoppedAt && `${verb}: stopped after ${this.stoppedAt.failures} failures in a row`;
  }
}

/** The one line a stopped run ends with (stderr). */
export function stoppedLine(stopped: Stopped, rest: string): string {
  return `stopped after ${stopped.failures} failures in a row (last: ${stopped.lastError}); ${rest}\n`;
}
