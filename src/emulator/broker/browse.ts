/**
 * Read-only lookups over an entity's messages: peek (browse), the lookup behind
 * receive-by-sequence-number, and the per-state counts. Pure functions of the messages they are
 * given, kept apart from entity.ts, which holds the state transitions.
 */
import { BrokerError, Condition } from "./errors.js";
import type { StoredMessage } from "./message.js";

export interface EntityCounts {
  /** Active and not locked. */
  active: number;
  /** Active and locked by a receiver. */
  locked: number;
  scheduled: number;
  deferred: number;
  sessions: number;
}

/**
 * Messages with seq >= from (of `sessionId`, when given), in sequence order, at most `count`.
 * `inSeqOrder` says the map's insertion order is sequence order, which saves the sort.
 */
export function peekMessages(
  messages: ReadonlyMap<number, StoredMessage>,
  inSeqOrder: boolean,
  from: number,
  count: number,
  sessionId: string | undefined,
): StoredMessage[] {
  const out: StoredMessage[] = [];
  const take = (m: StoredMessage): boolean => {
    if (m.seq < from || (sessionId !== undefined && m.sessionId !== sessionId)) return false;
    out.push(m);
    return out.length >= count;
  };
  if (inSeqOrder) {
    // Insertion order is sequence order: no sort (workers peek idle sessions often).
    for (const m of messages.values()) if (take(m)) break;
    return out;
  }
  const seqs = [...messages.keys()].filter((s) => s >= from).sort((a, b) => a - b);
  for (const seq of seqs) if (take(messages.get(seq)!)) break;
  return out;
}

/**
 * The messages receive-by-sequence-number asks for: only deferred messages qualify (of
 * `sessionId`, when given), and not while `isLocked` (a previous receive holds them); any
 * other sequence number fails the whole request with message-not-found.
 */
export function findDeferred(
  messages: ReadonlyMap<number, StoredMessage>,
  seqs: readonly number[],
  sessionId: string | undefined,
  isLocked: (m: StoredMessage) => boolean,
): StoredMessage[] {
  return seqs.map((seq) => {
    const m = messages.get(seq);
    if (m === undefined || m.state !== "deferred" || (sessionId !== undefined && m.sessionId !== sessionId)) {
      throw new BrokerError(
        Condition.messageNotFound,
        `Failed to retrieve the message with sequence number ${seq}.`,
      );
    }
    if (isLocked(m)) {
      throw new BrokerError(Condition.messageNotFound, `The message with sequence number ${seq} is locked.`);
    }
    return m;
  });
}

/** Counts `messages` by state; `locked` are the messages under a peek-lock. */
export function countMessages(
  messages: Iterable<StoredMessage>,
  locked: Iterable<StoredMessage>,
  sessions: number,
): EntityCounts {
  let active = 0;
  let scheduled = 0;
  let deferred = 0;
  for (const m of messages) {
    if (m.state === "scheduled") scheduled += 1;
    else if (m.state === "deferred") deferred += 1;
    else if (m.lockToken === undefined) active += 1;
  }
  let lockedActive = 0;
  for (const m of locked) if (m.state === "active") lockedActive += 1;
  return { active, locked: lockedActive, scheduled, deferred, sessions };
}
