/**
 * The messages of a held session, one at a time, and `undefined` once the session is empty.
 *
 * A receive cannot tell "empty" from "slow": waiting the whole idle timeout after a session's last
 * message is what makes hand-written session loops crawl (every session costs at least one idle
 * wait). So: a short receive first (a message already in the session arrives within a round trip;
 * `ArrivalEstimate` learns how long that is from the peeks), then a peek of the session (one
 * management round trip, answered from the broker's index): no active message means the session
 * is empty and is released at once; otherwise, or when the peek fails, wait out the rest of the
 * idle timeout as before.
 *
 * Why it is safe: a message that arrives after the peek makes the session available again, so the
 * next accept (here or in another pod) takes it; nothing waits on a released session.
 */
import type { ServiceBusReceivedMessage, ServiceBusSessionReceiver } from "@azure/service-bus";
import Long from "long";

/** Deferred and scheduled messages of the session may sit ahead of an active one. */
const PEEK_COUNT = 32;

/**
 * How long a message that is already in a session takes to arrive after we ask for it: one round
 * trip to the broker (under a millisecond to the emulator, a few to Azure in-region), learnt from
 * the peeks' round trips. The short receive waits a few times that.
 */
export class ArrivalEstimate {
  private averageMs = 5;

  record(ms: number): void {
    this.averageMs += (ms - this.averageMs) / 8;
  }

  /** The short receive's wait: 3x a typical round trip, within [2, 50] ms. */
  get quietMs(): number {
    return Math.min(50, Math.max(2, Math.ceil(3 * this.averageMs)));
  }
}

export interface SessionIntakeOptions {
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal;
  /** Shared by the consumer's slots. */
  readonly arrival: ArrivalEstimate;
  /** A failed peek (the receive falls back to the idle timeout). */
  readonly onPeekError?: (error: unknown) => void;
}

/**
 * One held session's messages, one receive each, in sequence order. (Batches would save receive
 * calls, but the SDK holds a batch open until it is full or the wait ends, so each one costs a
 * whole quiet period: slower for the short sessions that are typical.)
 */
export class SessionIntake {
  /** The sequence number of the last message handed out (a peek starts after it). */
  private after: Long | undefined;

  constructor(
    private readonly receiver: ServiceBusSessionReceiver,
    private readonly options: SessionIntakeOptions,
  ) {}

  /** The next message, or undefined once the session is empty (release it). */
  async next(): Promise<ServiceBusReceivedMessage | undefined> {
    const message = await this.fill();
    if (message) this.after = message.sequenceNumber;
    return message;
  }

  private async fill(): Promise<ServiceBusReceivedMessage | undefined> {
    const { idleTimeoutMs, signal } = this.options;
    const quietMs = this.options.arrival.quietMs;
    if (idleTimeoutMs <= quietMs) return this.receive(idleTimeoutMs);

    const quick = await this.receive(quietMs);
    if (quick) return quick;
    try {
      const started = performance.now();
      const ahead = await this.receiver.peekMessages(PEEK_COUNT, {
        fromSequenceNumber: this.after ? this.after.add(1) : Long.ZERO,
        abortSignal: signal,
      });
      this.options.arrival.record(performance.now() - started);
      if (!ahead.some((m) => m.state === "active")) return undefined;
    } catch (error) {
      if (signal.aborted) throw error;
      this.options.onPeekError?.(error);
    }
    return this.receive(idleTimeoutMs - quietMs);
  }

  private async receive(waitMs: number): Promise<ServiceBusReceivedMessage | undefined> {
    const [message] = await this.receiver.receiveMessages(1, {
      maxWaitTimeInMs: waitMs,
      abortSignal: this.options.signal,
    });
    return message;
  }
}
