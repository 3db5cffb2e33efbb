/**
 * `dlq replay <entity>` and `dlq purge <entity>`: plan (peek + select), show or confirm, then run
 * the engine with journal, rate limit, concurrency and progress; print the summary.
 */
import { resolve } from "node:path";
import type { CliIo } from "../../command.js";
import { confirmOrRefuse } from "../confirm.js";
import { dlqTimeouts } from "../connection.js";
import { runEngine, type EngineResult } from "../engine.js";
import { defaultTarget, parseSource, parseTarget, sourceLabel, targetLabel, type Target } from "../entity.js";
import { checkResumable, JournalWriter, readJournal, type ResumeState } from "../journal.js";
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  expectPositionals,
  loadSelection,
  parseOptions,
  positiveInt,
  positiveNumber,
  SELECTION_HELP,
  SELECTION_OPTIONS,
  STOP_AFTER_FAILURES_HELP,
  STOP_AFTER_FAILURES_OPTION,
  stopAfterFailures,
} from "../options.js";
import { stoppedLine } from "../failureStreak.js";
import { exitCodeOf, renderSummary, type Outcome } from "../outcome.js";
import { planRun } from "../plan.js";
import { createProgress } from "../progress.js";
import { RateLimiter } from "../rateLimiter.js";
import { replayMessageId, originalMessageId } from "../replayMessage.js";
import { scanSelection } from "../scan.js";
import { renderTable } from "../table.js";
import { isTty, withClient } from "./shared.js";

type Command = "replay" | "purge";

const COMMON_HELP = `  --dry-run              show what would happen; change nothing
  --yes, -y              do not ask (required without a terminal)
  --rate N               at most N messages per second
  --concurrency N        messages in flight at once (default 1)
  --journal FILE         append every message's outcome to FILE (JSON lines)
  --resume FILE          skip what FILE records as done; complete what it records as sent
                         (and keep journaling to FILE unless --journal says otherwise)
${STOP_AFTER_FAILURES_HELP}`;

export const REPLAY_HELP = `usage: sbworker dlq replay <queue|topic/subscription> [options] [selection]

Sends each selected dead letter back and removes it from the dead-letter queue: lock it, send a
new message (same body bytes and properties, new MessageId derived from the original id and the
dead letter's sequence number, sbw-replay-* properties added), then complete the dead letter.
A failed send abandons it (it stays). A subscription's dead letters go to that subscription only.
  --to T                 queue, topic (fan out by its rules) or topic/subscription
  --max-replays N        skip messages already replayed N times (default 3)
${COMMON_HELP}
${SELECTION_HELP}
${CONNECTION_HELP}`;

export const PURGE_HELP = `usage: sbworker dlq purge <queue|topic/subscription> [options] [selection]

Removes the selected dead letters for good (export them first if in doubt).
${COMMON_HELP}
${SELECTION_HELP}
${CONNECTION_HELP}`;

function describeTarget(target: Target): string {
  return target.kind === "subscription"
    ? `${targetLabel(target)} (sent to topic ${target.topic} with sbw-replay-to=${target.subscription})`
    : target.name;
}

export async function bulkCommand(command: Command, argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    ...SELECTION_OPTIONS,
    ...(command === "replay" ? { to: { type: "string" }, "max-replays": { type: "string" } } : {}),
    "dry-run": { type: "boolean" },
    yes: { type: "boolean", short: "y" },
    rate: { type: "string" },
    concurrency: { type: "string" },
    journal: { type: "string" },
    resume: { type: "string" },
    ...STOP_AFTER_FAILURES_OPTION,
  } as const);
  if (values.help) {
    io.stdout.write(command === "replay" ? REPLAY_HELP : PURGE_HELP);
    return 0;
  }
  const [entity] = expectPositionals(positionals, ["entity"]);
  const source = parseSource(entity);
  const options = values as typeof values & { to?: string; "max-replays"?: string };
  const target =
    command === "replay" ? (options.to ? parseTarget(options.to) : defaultTarget(source)) : undefined;
  const maxReplays =
    command === "replay" ? positiveInt(options["max-replays"], "--max-replays", 3) : undefined;
  const concurrency = positiveInt(values.concurrency, "--concurrency", 1);
  const stopAfter = stopAfterFailures(values);
  const rate = positiveNumber(values.rate, "--rate");
  const selection = await loadSelection(values, io, new Date());
  const label = sourceLabel(source);
  const dryRun = values["dry-run"] === true;

  let resume: ResumeState | undefined;
  if (values.resume !== undefined) {
    resume = readJournal(resolve(io.cwd, values.resume));
    checkResumable(resume, command, label, values.resume);
  }
  const journalPath = values.journal ?? values.resume;

  return withClient(io, values["connection-string"], async (client) => {
    const scan = await scanSelection(client, source, selection, io.signal);
    const plan = planRun(
      scan.selected.map((s) => s.view),
      { command, ...(maxReplays !== undefined ? { maxReplays } : {}), ...(resume ? { resume } : {}) },
    );
    const verb = command === "replay" ? `replay to ${describeTarget(target!)}` : "purge";
    io.stdout.write(
      `${command}: ${scan.selected.length} of ${scan.total} dead letters in ${label} selected; ` +
        `${plan.tasks.length} to ${verb}` +
        (plan.settled.length ? `, ${plan.settled.length} left as they are` : "") +
        "\n",
    );
    if (dryRun) {
      const byseq = new Map(scan.selected.map((s) => [s.view.sequenceNumber?.toString(), s]));
      const rows = [
        ...plan.tasks.map((t) => {
          const view = byseq.get(t.seq)!.view;
          const action =
            t.mode === "purge" ? "purge" : t.mode === "complete-only" ? "complete (sent earlier)" : "replay";
          const newId =
            t.mode === "replay"
              ? replayMessageId(originalMessageId(byseq.get(t.seq)!.message), label, BigInt(t.seq))
              : "";
          return [t.seq, t.messageId, view.subject, view.deadLetterReason, action, newId];
        }),
        ...plan.settled.map((o) => [
          o.seq,
          o.messageId,
          byseq.get(o.seq)?.view.subject,
          byseq.get(o.seq)?.view.deadLetterReason,
          o.status,
          o.error,
        ]),
      ];
      io.stdout.write(
        renderTable(["SEQ", "MESSAGE ID", "SUBJECT", "REASON", "ACTION", "NEW MESSAGE ID / NOTE"], rows, 80),
      );
      io.stdout.write("dry run: nothing was changed\n");
      return 0;
    }
    const outcomes: Outcome[] = [...plan.settled];
    let stopped: EngineResult["stopped"];
    if (plan.tasks.length > 0) {
      await confirmOrRefuse(io, {
        yes: values.yes === true,
        question:
          command === "replay"
            ? `Replay ${plan.tasks.length} dead letters from ${label} to ${targetLabel(target!)}?`
            : `Permanently delete ${plan.tasks.length} dead letters from ${label}?`,
        flagHint: command,
      });
      const journal =
        journalPath === undefined ? undefined : JournalWriter.open(resolve(io.cwd, journalPath));
      try {
        journal?.run({ command, entity: label, ...(target ? { target: targetLabel(target) } : {}) });
        for (const o of plan.settled)
          if (o.status === "skipped")
            journal?.entry({
              seq: o.seq,
              ...(o.messageId ? { messageId: o.messageId } : {}),
              status: "skipped",
              ...(o.error ? { error: o.error } : {}),
            });
        const progress = createProgress({
          total: plan.tasks.length,
          verb: command,
          sink: io.stderr,
          tty: isTty(io.stderr),
        });
        const done = await runEngine({
          client,
          source,
          ...(target ? { target } : {}),
          tasks: plan.tasks,
          concurrency,
          limiter: new RateLimiter(rate),
          ...(journal ? { journal } : {}),
          signal: io.signal,
          onOutcome: (o) => progress.tick(o.status === "failed"),
          stopAfterFailures: stopAfter,
          ...dlqTimeouts(io.env),
        });
        progress.finish();
        outcomes.push(...done.outcomes);
        stopped = done.stopped;
      } finally {
        journal?.close();
      }
    }
    io.stdout.write(renderSummary(outcomes));
    const resumeHint = journalPath ? `; continue with --resume ${journalPath}` : "";
    if (stopped) {
      io.stderr.write(stoppedLine(stopped, `the rest stays in the dead-letter queue${resumeHint}`));
    } else if (io.signal.aborted) {
      io.stderr.write(`interrupted: the rest stays in the dead-letter queue${resumeHint}\n`);
    }
    return exitCodeOf(outcomes);
  });
}
