/**
 * `dlq send-file file.jsonl --to <queue|topic|topic/subscription>`: resubmits an exported (and
 * possibly edited) file. Body bytes and properties are sent as the file has them; DeadLetter*
 * properties are not sent, and the route property is set for a `topic/subscription` target.
 *
 * MessageId: by default the replay id of the dead letter (see ../replayMessage.ts), so a file
 * sent while the original is inside the duplicate-detection window is not silently dropped, and
 * sending the same file twice (or send-file after a replay of the same dead letter) is absorbed.
 * `--keep-message-ids` sends the ids in the file unchanged.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { CliIo } from "../../command.js";
import { closeWithin, dlqTimeouts } from "../connection.js";
import { REPLAY_PROPERTY as ROUTE_PROPERTY } from "../../../topics/emulatorConfig.js";
import { parseExportFile, recordToMessage, viewOfRecord, type ExportRecord } from "../codec.js";
import { parseTarget, senderEntity, targetLabel, type Target } from "../entity.js";
import { DlqError, setupError } from "../errors.js";
import { oneLine } from "../../oneLine.js";
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  expectPositionals,
  loadSelection,
  parseOptions,
  positiveNumber,
  SELECTION_HELP,
  SELECTION_OPTIONS,
  STOP_AFTER_FAILURES_HELP,
  STOP_AFTER_FAILURES_OPTION,
  stopAfterFailures,
} from "../options.js";
import { FailureStreak, stoppedLine } from "../failureStreak.js";
import { countByStatus, exitCodeOf, renderSummary, type Outcome } from "../outcome.js";
import { RateLimiter } from "../rateLimiter.js";
import { originalMessageId, replayMessageId, withBodyType, type OutgoingMessage } from "../replayMessage.js";
import { matchesSelection } from "../selection.js";
import { confirmOrRefuse } from "../confirm.js";
import { withClient } from "./shared.js";

export const SEND_FILE_HELP = `usage: sbworker dlq send-file FILE.jsonl --to <queue|topic|topic/subscription> [options] [selection]

Sends the messages of an export file (see "dlq export"), in file order.
  --to T                 a queue or topic; topic/subscription sends to the topic addressed to that
                         subscription only (sbw-replay-to)
  --keep-message-ids     send the file's MessageIds (default: the dead letter's replay id, so the
                         broker's duplicate detection does not drop a resend of a recent message)
  --rate N               at most N messages per second
  --dry-run              show what would be sent; send nothing
  --yes                  do not ask for confirmation (required without a terminal)
${STOP_AFTER_FAILURES_HELP}
${SELECTION_HELP}
${CONNECTION_HELP}`;

export function fileMessage(
  record: ExportRecord,
  target: Target,
  keepIds: boolean,
  where: string,
): { messageId: string | undefined; message: OutgoingMessage } {
  const { message, bodyType } = recordToMessage(record, where);
  const props = { ...(message.applicationProperties ?? {}) };
  delete props[ROUTE_PROPERTY];
  if (target.kind === "subscription") props[ROUTE_PROPERTY] = target.subscription;
  message.applicationProperties = props;
  if (!keepIds && record.entity !== undefined && record.sequenceNumber !== undefined) {
    const original = originalMessageId({ applicationProperties: props, messageId: message.messageId });
    message.messageId = replayMessageId(original, record.entity, BigInt(record.sequenceNumber));
  }
  const id = message.messageId;
  return {
    messageId: id === undefined ? undefined : Buffer.isBuffer(id) ? id.toString("hex") : String(id),
    message: withBodyType(message, bodyType),
  };
}

export async function sendFileCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    ...SELECTION_OPTIONS,
    to: { type: "string" },
    "keep-message-ids": { type: "boolean" },
    rate: { type: "string" },
    "dry-run": { type: "boolean" },
    yes: { type: "boolean", short: "y" },
    ...STOP_AFTER_FAILURES_OPTION,
  });
  if (values.help) {
    io.stdout.write(SEND_FILE_HELP);
    return 0;
  }
  const [file] = expectPositionals(positionals, ["file"]);
  if (values.to === undefined)
    throw new DlqError("BadUsage", "--to <queue|topic|topic/subscription> is required");
  const target = parseTarget(values.to);
  const rate = positiveNumber(values.rate, "--rate");
  const stopAfter = stopAfterFailures(values);
  const selection = await loadSelection(values, io, new Date());
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file!), "utf8");
  } catch (error) {
    throw new DlqError("BadFile", `cannot read ${file}: ${oneLine(error)}`);
  }
  const records = parseExportFile(text, file!)
    .map((record, index) => ({ record, where: `${file}:${index + 1}` }))
    .filter(({ record }) => matchesSelection(selection, viewOfRecord(record)));
  const chosen = selection.limit === undefined ? records : records.slice(0, selection.limit);
  // Build every message first: a malformed line fails the whole command before anything is sent.
  const planned = chosen.map(({ record, where }) => ({
    record,
    ...fileMessage(record, target, values["keep-message-ids"] === true, where),
  }));
  const label = targetLabel(target);
  io.stdout.write(`send-file: ${planned.length} messages from ${file} to ${label}\n`);
  if (values["dry-run"]) {
    for (const p of planned)
      io.stdout.write(`would send ${p.messageId ?? "(no id)"} subject=${p.record.subject ?? ""}\n`);
    return 0;
  }
  if (planned.length === 0) return 0;
  await confirmOrRefuse(io, {
    yes: values.yes === true,
    question: `Send ${planned.length} messages to ${label}?`,
    flagHint: "send",
  });
  const limiter = new RateLimiter(rate);
  const outcomes: Outcome[] = [];
  const streak = new FailureStreak(stopAfter);
  const record = (outcome: Outcome): void => {
    outcomes.push(outcome);
    streak.record(outcome);
  };
  await withClient(io, values["connection-string"], async (client) => {
    const sender = client.createSender(senderEntity(target));
    try {
      for (const [index, p] of planned.entries()) {
        const base = { seq: p.record.sequenceNumber ?? `line ${index + 1}`, messageId: p.messageId };
        if (io.signal.aborted || streak.stopped) {
          const why = streak.reason("not sent");
          outcomes.push({ ...base, status: "interrupted", ...(why ? { error: why } : {}) });
          continue;
        }
        try {
          await limiter.acquire(io.signal);
          await sender.sendMessages(p.message);
          record({ ...base, status: "sent" });
        } catch (error) {
          if (io.signal.aborted) outcomes.push({ ...base, status: "interrupted" });
          else if (index === 0 && outcomes.length === 0) throw setupError(error, `send to ${label}`);
          else record({ ...base, status: "failed", error: oneLine(error) });
        }
      }
    } finally {
      await closeWithin(sender.close(), dlqTimeouts(io.env).closeTimeoutMs);
    }
  });
  io.stdout.write(renderSummary(outcomes));
  const sent = countByStatus(outcomes).get("sent") ?? 0;
  io.stdout.write(`sent ${sent} of ${planned.length} messages to ${label}\n`);
  // The file is unchanged: sending it again is safe where the target has duplicate detection
  // (the MessageIds are the same), or select the unsent lines.
  if (streak.stopped) io.stderr.write(stoppedLine(streak.stopped, "the rest was not sent"));
  return exitCodeOf(outcomes);
}
