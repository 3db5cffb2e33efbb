/**
 * Planning a replay or purge from the scan: which dead letters to act on, which the loop guard
 * skips, which a resumed journal already finished. Pure, so the decisions are unit-tested.
 */
import type { EngineTask } from "./engine.js";
import type { ResumeState } from "./journal.js";
import type { Outcome } from "./outcome.js";
import type { MessageView } from "./view.js";

export interface Plan {
  readonly tasks: readonly EngineTask[];
  /** Decided without touching the broker: skipped (loop guard) and already done (journal). */
  readonly settled: readonly Outcome[];
}

export function planRun(
  views: readonly MessageView[],
  options: {
    readonly command: "replay" | "purge";
    /** Loop guard (replay only): skip messages already replayed this many times. */
    readonly maxReplays?: number;
    readonly resume?: ResumeState;
  },
): Plan {
  const tasks: EngineTask[] = [];
  const settled: Outcome[] = [];
  for (const view of views) {
    const seq = view.sequenceNumber?.toString();
    if (seq === undefined) continue; // Every broker message has one; a peeked message without is unusable.
    const base = { seq, messageId: view.messageId };
    if (options.resume?.done.has(seq)) {
      settled.push({ ...base, status: "already-done" });
    } else if (options.command === "purge") {
      tasks.push({ ...base, mode: "purge" });
    } else if (options.resume?.sent.has(seq)) {
      // The journal proves the replay was accepted: only the DLQ copy is left to remove.
      tasks.push({ ...base, mode: "complete-only" });
    } else if (options.maxReplays !== undefined && view.replayCount >= options.maxReplays) {
      settled.push({
        ...base,
        status: "skipped",
        error: `replayed ${view.replayCount} times already (--max-replays ${options.maxReplays})`,
      });
    } else {
      tasks.push({ ...base, mode: "replay" });
    }
  }
  return { tasks, settled };
}
