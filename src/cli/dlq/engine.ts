/**
 * The part of replay and purge that changes things: lock each planned dead letter, act, settle.
 *
 * Invariant: every dead letter this run locks is settled exactly once (completed after a
 * successful send or for purge, abandoned otherwise), or, if the process dies, its lock expires
 * and the broker makes it available again. Nothing is completed before its replay was accepted.
 *
 * Service Bus cannot lock a message by sequence number, so the engine receives in peek-lock mode
 * and keeps (locked, untouched) whatever is not planned until the end of the run, then abandons
 * it. Abandoning at once would hand the same message straight back to the next receive. Locks
 * are renewed by the SDK for `lockRenewalMs`; if one lapses, the message just comes back.
 *
 * Per message: rate-limit slot → send (replay) → journal `sent` → complete → journal `completed`.
 * A failed send abandons the message (it stays in the DLQ). On abort (Ctrl-C): no new message
 * starts; the ones in flight finish; the rest is abandoned and reported as interrupted. The same
 * happens once `stopAfterFailures` messages have failed in a row: a target that is gone, a
 * missing Send right or a partition fails every message alike, and each failure can cost the
 * send's retries plus a settlement timeout, so going on only turns minutes into hours.
 */
import type {
  ServiceBusClient,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusSender,
} from "@azure/service-bus";
import { senderEntity, type SourceEntity, type Target } from "./entity.js";
import { oneLine } from "../oneLine.js";
import { withDeadline } from "../../worker/deadline.js";
import { SettleTimeoutError } from "../../worker/errors.js";
import { closeWithin } from "./connection.js";
import { FailureStreak, type Stopped } from "./failureStreak.js";
import type { JournalWriter } from "./journal.js";
import type { Outcome } from "./outcome.js";
import type { RateLimiter } from "./rateLimiter.js";
import { buildReplay } from "./replayMessage.js";
import { deadLetterReceiver } from "./scan.js";

export interface EngineTask {
  readonly seq: string;
  readonly messageId: string | undefined;
  /** `complete-only`: a resumed run whose journal says the replay was already sent. */
  readonly mode: "replay" | "complete-only" | "purge";
}

export interface EngineOptions {
  readonly client: ServiceBusClient;
  readonly source: SourceEntity;
  /** Required when any task replays. */
  readonly target?: Target;
  readonly tasks: readonly EngineTask[];
  readonly concurrency: number;
  readonly limiter: RateLimiter;
  readonly journal?: JournalWriter;
  /** Aborted on Ctrl-C / SIGTERM. */
  readonly signal: AbortSignal;
  readonly onOutcome: (outcome: Outcome) => void;
  /** How long one receive waits for the next message before the engine gives up on the rest. */
  readonly receiveWaitMs?: number;
  readonly lockRenewalMs?: number;
  /**
   * Give a settlement up as failed after this long (the lock then lapses). SDK 7.9.5 waits a fixed
   * 60 s for a disposition whatever its retry options say, and one sent into a partition is never
   * answered. Absent: the SDK's own wait.
   */
  readonly settleTimeoutMs?: number;
  /**
   * Stop waiting for the closing abandons and each link's close after this long: in a partition
   * the SDK's close of a sender waits for good. What is left behind goes with the process.
   */
  readonly closeTimeoutMs?: number;
  /** Stop starting messages once this many have failed in a row (0 or absent: never). */
  readonly stopAfterFailures?: number;
}

export interface EngineResult {
  readonly outcomes: Outcome[];
  /** Set when the run stopped early because `stopAfterFailures` messages failed in a row. */
  readonly stopped?: Stopped;
}

const MAX_BATCH = 100;
/** Consecutive empty receives before the remaining planned messages count as not found. */
const EMPTY_RECEIVES = 2;

function seqOf(message: ServiceBusReceivedMessage): string {
  return message.sequenceNumber?.toString() ?? "";
}

export async function runEngine(options: EngineOptions): Promise<EngineResult> {
  const { client, source, signal } = options;
  const outcomes: Outcome[] = [];
  const streak = new FailureStreak(options.stopAfterFailures ?? 0);
  const record = (outcome: Outcome): void => {
    outcomes.push(outcome);
    streak.record(outcome);
    options.onOutcome(outcome);
  };
  // No new message starts once this is true; in-flight ones finish.
  const halted = (): boolean => signal.aborted || streak.stopped !== undefined;
  const pending = new Map(options.tasks.map((t) => [t.seq, t]));
  if (pending.size === 0) return { outcomes };

  const receiver = deadLetterReceiver(client, source, {
    receiveMode: "peekLock",
    maxAutoLockRenewalDurationInMs: options.lockRenewalMs ?? 30 * 60_000,
  });
  const needsSender = options.tasks.some((t) => t.mode === "replay");
  if (needsSender && options.target === undefined) throw new Error("runEngine: replay tasks need a target");
  const sender =
    needsSender && options.target ? client.createSender(senderEntity(options.target)) : undefined;
  const held: ServiceBusReceivedMessage[] = [];
  const inFlight = new Set<Promise<void>>();
  try {
    let empty = 0;
    while (pending.size > 0 && !halted()) {
      // Ask for no more than is still wanted: after the first message the SDK waits up to 1 s
      // for a batch to fill, so over-asking costs a second per receive at the end of a run.
      const batch = await receiver.receiveMessages(Math.min(MAX_BATCH, pending.size), {
        maxWaitTimeInMs: options.receiveWaitMs ?? 1_000,
      });
      if (batch.length === 0) {
        empty += 1;
        if (empty >= EMPTY_RECEIVES) break;
        continue;
      }
      empty = 0;
      for (const message of batch) {
        const task = pending.get(seqOf(message));
        if (task === undefined || halted()) {
          held.push(message);
          continue;
        }
        while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
        try {
          await options.limiter.acquire(signal);
        } catch {
          // Aborted while waiting for a rate slot: this message was not started.
          held.push(message);
          continue;
        }
        if (halted()) {
          held.push(message);
          continue;
        }
        pending.delete(task.seq);
        const work = settleOne(task, message, receiver, sender, options).then(record);
        inFlight.add(work);
        const forget = (): void => void inFlight.delete(work);
        void work.then(forget, forget);
      }
    }
    // In-flight messages finish even after an abort: a send without its complete is a duplicate.
    await Promise.all(inFlight);
  } finally {
    await Promise.all(inFlight);
    // Best effort, bounded: an abandon that fails or hangs leaves the lock to lapse, which
    // releases it just later; a link that does not close in time is left to the process's exit.
    const ms = options.closeTimeoutMs;
    await closeWithin(Promise.allSettled(held.map((m) => receiver.abandonMessage(m))), ms);
    if (sender) await closeWithin(sender.close(), ms);
    await closeWithin(receiver.close(), ms);
  }
  const stopped = streak.stopped;
  const status = halted() ? "interrupted" : "not-found";
  const why =
    status === "not-found"
      ? "not received: removed meanwhile or locked by another receiver"
      : streak.reason("not attempted");
  for (const task of pending.values())
    record({ seq: task.seq, messageId: task.messageId, status, ...(why ? { error: why } : {}) });
  return { outcomes, ...(stopped ? { stopped } : {}) };
}

/** A settlement bounded by `settleTimeoutMs`: past it, a SettleTimeoutError. */
function settled(call: Promise<void>, options: EngineOptions): Promise<void> {
  return withDeadline(call, options.settleTimeoutMs, () => new SettleTimeoutError(options.settleTimeoutMs!));
}

/**
 * One message. Broker errors become a `failed` outcome, never an exception; every path ends in
 * exactly one settlement (or a lapsing lock). Only a journal write that fails throws, which ends
 * the run: continuing without the record `--resume` relies on would be worse.
 */
async function settleOne(
  task: EngineTask,
  message: ServiceBusReceivedMessage,
  receiver: ServiceBusReceiver,
  sender: ServiceBusSender | undefined,
  options: EngineOptions,
): Promise<Outcome> {
  const base = { seq: task.seq, messageId: task.messageId };
  const journal = options.journal;
  let newMessageId: string | undefined;
  if (task.mode === "replay") {
    const replay = buildReplay(message, options.source, options.target!);
    newMessageId = replay.messageId;
    try {
      await sender!.sendMessages(replay.message);
    } catch (error) {
      const reason = `send failed: ${oneLine(error)}`;
      const abandon = await settled(receiver.abandonMessage(message), options).then(
        () => "",
        (e: unknown) => `; abandon failed too (${oneLine(e)}), the lock will lapse`,
      );
      journal?.entry({ ...base, status: "failed", newMessageId, error: reason + abandon });
      return { ...base, status: "failed", newMessageId, error: reason + abandon };
    }
    journal?.entry({ ...base, status: "sent", newMessageId });
  }
  try {
    await settled(receiver.completeMessage(message), options);
  } catch (error) {
    const reason =
      task.mode === "purge"
        ? `complete failed: ${oneLine(error)}`
        : `sent as ${newMessageId ?? "(earlier run)"} but completing the dead letter failed: ${oneLine(error)}; ` +
          "replaying it again sends the same MessageId (absorbed by duplicate detection)";
    journal?.entry({ ...base, status: "failed", ...(newMessageId ? { newMessageId } : {}), error: reason });
    return { ...base, status: "failed", ...(newMessageId ? { newMessageId } : {}), error: reason };
  }
  const status = task.mode === "purge" ? "purged" : "completed";
  journal?.entry({ ...base, status, ...(newMessageId ? { newMessageId } : {}) });
  return {
    ...base,
    status: task.mode === "purge" ? "purged" : "replayed",
    ...(newMessageId ? { newMessageId } : {}),
  };
}
