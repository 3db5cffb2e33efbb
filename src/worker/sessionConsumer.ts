/**
 * The session processor for one session subscription (the JavaScript SDK has none).
 *
 * `maxConcurrentSessions` slots each run the loop below, top to bottom:
 *   accept the next available session (long-poll, aborted by the drain; after a failure, wait a
 *     doubling, jittered delay: ./sessionSlot.ts acceptRetryDelay)
 *   → renew the session lock while it is held (./sessionLock.ts; SDK auto-renewal is off)
 *   → receive ONE message (./sessionIntake.ts: a short receive, then a peek; an empty session is
 *     released at once, and no wait ever exceeds `sessionIdleTimeoutMs`)
 *   → dispatch → policy → settle; a `retry` waits the backoff *in place*, lock held and renewed,
 *     so this session's later messages wait behind the failing one and order is never broken,
 *     while the other slots keep other sessions flowing
 *   → repeat; close the session receiver when idle, lost or draining.
 * A session is never dropped while its handler runs: its lock is renewed without a time limit
 * until the handler returns (issue 4 adds stall detection).
 *
 * Trade-off: a session in backoff holds its slot. With the default backoff cap that is bounded; a
 * subscription expecting many failing sessions should raise `maxConcurrentSessions`.
 *
 * INVARIANT: every received message is settled exactly once, or its lock (the session lock) is
 * left to expire on purpose: see ./settle.ts.
 */
import type {
  ServiceBusClient,
  ServiceBusReceivedMessage,
  ServiceBusSessionReceiver,
} from "@azure/service-bus";
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { DispatchTarget } from "./dispatch.js";
import { handleAttempt } from "./dispatch.js";
import { DrainTimeoutError } from "./errors.js";
import type { LockRenewal } from "./lockRenewal.js";
import { isLockLost } from "./lockRenewal.js";
import { renewSessionLock } from "./sessionLock.js";
import { eventWith, type WorkerObserver } from "./observer.js";
import { decideSettlement } from "./policy.js";
import { attemptOf, messageIdText } from "./properties.js";
import { sessionAccess } from "./sessionState.js";
import type { RunningJob } from "./jobs/job.js";
import type { SubscriptionJobs } from "./jobs/runtime.js";
import { admitInSession } from "./jobs/sessionAdmission.js";
import { SessionCheckpoints } from "./jobs/sessionCheckpoint.js";
import type { LoopHealth, ReceiveLoop } from "./receiveLoop.js";
import type { Delivery, SettleDeps } from "./settle.js";
import { ArrivalEstimate, SessionIntake } from "./sessionIntake.js";
import { IdleGate } from "./idleGate.js";
import { probeSubscription } from "./reachability.js";
import { ACCEPT_LINES, ErrorStreak } from "./errorStreak.js";
import {
  acceptRetryDelay,
  enterPhase,
  isNoSessionAvailable,
  MIN_ACCEPT_INTERVAL_MS,
  newSlot,
  slotsHealth,
  type Slot,
} from "./sessionSlot.js";
import { newDelivery, settle } from "./settle.js";

export interface SessionConsumerOptions {
  readonly client: ServiceBusClient;
  readonly target: DispatchTarget;
  /** Ledger admission, heartbeats, checkpoints (./jobs/runtime.ts). */
  readonly jobs: SubscriptionJobs;
  readonly observer: Required<WorkerObserver>;
  readonly livenessTimeoutMs: number;
  /** The longest a failing slot that still tries goes without failing again (../receiveLoop.ts). */
  readonly failureQuietMs: number;
  /** How long an accept may long-poll (the SDK's operation timeout); bounds the liveness check. */
  readonly acceptTimeoutMs: number;
  /** First pause after a failed accept (not after "no session available"); doubles while it fails. */
  readonly retryDelayMs: number;
  /** Operation timeout for settlements, which the SDK does not apply to session messages (../settle.ts). */
  readonly settleTimeoutMs: number;
  /** Bounds the abandons of a drain that timed out, when shorter than `settleTimeoutMs`. */
  readonly closeTimeoutMs?: number;
  readonly random?: () => number;
}

interface HeldSession {
  readonly receiver: ServiceBusSessionReceiver;
  readonly sessionId: string;
  readonly renewal: LockRenewal;
  current: Delivery | undefined;
  /** The running job of `current` (ledger claim, heartbeats, checkpoints). */
  job: RunningJob | undefined;
}

export class SessionConsumer implements ReceiveLoop {
  readonly key: string;
  private readonly intake = new AbortController();
  private readonly held = new Set<HeldSession>();
  private readonly slots: Slot[] = [];
  private connected = false;
  private readonly idle = new IdleGate();
  private probing: Promise<void> | undefined;
  private readonly arrival = new ArrivalEstimate();
  /** One streak for all slots: an outage fails every slot at once (./errorStreak.ts). */
  private readonly streak: ErrorStreak;

  constructor(private readonly options: SessionConsumerOptions) {
    this.key = options.target.binding.key;
    this.streak = new ErrorStreak({ log: options.target.log, lines: ACCEPT_LINES });
    // Every slot's pending accept / receive / backoff listens on the intake signal.
    setMaxListeners(0, this.intake.signal);
  }

  start(): Promise<void> {
    this.probing = this.probe();
    const n = this.options.target.binding.policy.maxConcurrentSessions;
    for (let i = 0; i < n; i += 1) {
      const slot = newSlot();
      slot.done = this.slotLoop(slot);
      this.slots.push(slot);
    }
    this.options.target.log.info({ maxConcurrentSessions: n }, "session consumer started");
    return Promise.resolve();
  }

  /** Readiness before any session is accepted: ./reachability.ts. */
  private async probe(): Promise<void> {
    const { client, target } = this.options;
    const reachable = await probeSubscription(
      client,
      target.topic.name,
      target.binding.subscription,
      this.intake.signal,
      (error) => {
        target.log.warn({ err: error }, "cannot reach the subscription");
        this.options.observer.receiveError({ subscription: this.key, error });
      },
    );
    if (reachable) this.connected = true;
  }

  private async slotLoop(slot: Slot): Promise<void> {
    const { client, target } = this.options;
    const { subscription } = target.binding;
    while (!this.intake.signal.aborted) {
      enterPhase(slot, "accepting");
      let receiver: ServiceBusSessionReceiver;
      try {
        receiver = await client.acceptNextSession(target.topic.name, subscription, {
          maxAutoLockRenewalDurationInMs: 0,
          skipParsingBodyAsJson: true,
          abortSignal: this.intake.signal,
        });
      } catch (error) {
        if (this.intake.signal.aborted) break;
        if (isNoSessionAvailable(error)) {
          this.connected = true;
          slot.failingSince = undefined;
          slot.acceptFailures = 0;
          this.streak.recovered();
          if (Date.now() - slot.since < MIN_ACCEPT_INTERVAL_MS) await this.pause(MIN_ACCEPT_INTERVAL_MS);
          continue;
        }
        slot.lastFailureAt = Date.now();
        slot.failingSince ??= slot.lastFailureAt;
        slot.acceptFailures += 1;
        this.streak.failed(error);
        this.options.observer.receiveError({ subscription: this.key, error });
        await this.pause(
          acceptRetryDelay(slot.acceptFailures, this.options.retryDelayMs, this.options.random),
        );
        continue;
      }
      this.connected = true;
      slot.failingSince = undefined;
      slot.acceptFailures = 0;
      this.streak.recovered();
      if (this.intake.signal.aborted) {
        // Granted after the drain began (the SDK cannot abort an accept in flight): give it back.
        await receiver.close().catch(() => {});
        break;
      }
      await this.hold(slot, receiver);
    }
    enterPhase(slot, "stopped");
  }

  /** Holds one session until it is idle, lost, or the drain begins; always closes its receiver. */
  private async hold(slot: Slot, receiver: ServiceBusSessionReceiver): Promise<void> {
    const { target, observer } = this.options;
    const sessionId = receiver.sessionId;
    const session: HeldSession = {
      receiver,
      sessionId,
      current: undefined,
      job: undefined,
      renewal: renewSessionLock(receiver, () => session, { key: this.key, observer, log: target.log }),
    };
    this.held.add(session);
    // The slot is still in its "accepting" phase: `since` is when the successful accept began.
    observer.sessionAccepted({ subscription: this.key, sessionId, acquireMs: Date.now() - slot.since });
    let reason: "idle" | "drain" | "lockLost" | "error" = "idle";
    const intake = new SessionIntake(receiver, {
      idleTimeoutMs: target.binding.policy.sessionIdleTimeoutMs,
      signal: this.intake.signal,
      arrival: this.arrival,
      onPeekError: (error) => target.log.debug({ err: error, sessionId }, "peeking the session failed"),
    });
    try {
      for (;;) {
        if (this.intake.signal.aborted) {
          reason = "drain";
          break;
        }
        enterPhase(slot, "receiving");
        const message = await intake.next();
        if (!message) break;
        enterPhase(slot, "handling");
        await this.handle(slot, session, message);
        if (session.renewal.lost.aborted) {
          reason = "lockLost";
          break;
        }
      }
    } catch (error) {
      if (this.intake.signal.aborted) reason = "drain";
      else if (isLockLost(error)) reason = "lockLost";
      else {
        reason = "error";
        target.log.warn({ err: error, sessionId }, "receiving from the session failed");
        observer.receiveError({ subscription: this.key, error });
      }
    } finally {
      session.renewal.stop();
      this.held.delete(session);
      try {
        await receiver.close();
      } catch (error) {
        target.log.warn({ err: error, sessionId }, "closing the session receiver failed");
      }
      observer.sessionReleased({ subscription: this.key, sessionId, reason });
    }
  }

  /** Handles one message of a held session, retrying in place until it is settled. */
  private async handle(slot: Slot, session: HeldSession, message: ServiceBusReceivedMessage): Promise<void> {
    const { target, observer } = this.options;
    const deps = this.settleDeps(session.receiver);
    const first = attemptOf(message);
    const delivery = newDelivery(message, {
      topic: target.binding.topic,
      subscription: target.binding.subscription,
      messageId: messageIdText(message.messageId),
      sessionId: session.sessionId,
      subject: message.subject,
      attempt: first,
      deliveryCount: message.deliveryCount ?? 0,
      enqueuedTimeUtc: message.enqueuedTimeUtc,
    });
    session.current = delivery;
    slot.busy = true;
    try {
      for (let attempt = first; ; attempt += 1) {
        delivery.event = eventWith(delivery.event, attempt, attempt > first);
        delivery.trace?.end();
        delivery.trace = target.tracing?.start(message, delivery.event);
        // Each attempt claims the key (an in-place retry released it) and may resume a checkpoint.
        const job = await admitInSession({
          jobs: this.options.jobs,
          deps,
          message,
          delivery,
          retry: attempt > first,
          lost: session.renewal.lost,
          wait: async (ms) => {
            enterPhase(slot, "backoff");
            const waited = await this.pause(ms, session.renewal.lost);
            enterPhase(slot, "handling");
            return waited;
          },
        });
        if (!job) return;
        session.job = job;
        const checkpoint = job.checkpoints instanceof SessionCheckpoints ? job.checkpoints : undefined;
        const access = sessionAccess(session.receiver, target.binding.definition.sessionState, checkpoint);
        job.start();
        const outcome = await handleAttempt(target, observer, delivery, attempt, job.context, access);
        if (session.renewal.lost.aborted) {
          // The broker has released the session; it redelivers this message to whoever takes it next.
          target.log.warn(
            { messageId: delivery.event.messageId, sessionId: session.sessionId },
            "session lock lost during handler",
          );
          delivery.settled = true;
          return await job.finish(outcome, undefined);
        }
        if (outcome.kind === "failed") {
          target.log.warn(
            { err: outcome.error, messageId: delivery.event.messageId, attempt },
            "handler failed",
          );
        }
        const settlement = decideSettlement({
          outcome,
          attempt,
          handler: `${this.key}/${message.subject ?? ""}`,
          policy: target.binding.policy,
          ...(this.options.random ? { random: this.options.random } : {}),
        });
        await job.finish(outcome, settlement); // a success is recorded before `complete` is sent
        if (settlement.kind !== "retry") return await settle(deps, delivery, settlement);

        delivery.trace?.retryInPlace(settlement);
        delivery.trace?.end();
        observer.settled({ settlement, durationMs: Date.now() - delivery.startedAt, ...delivery.event });
        enterPhase(slot, "backoff");
        const waited = await this.pause(settlement.delayMs, session.renewal.lost);
        if (!waited) {
          // Drain began (or the lock went) during the backoff: give the message back now.
          if (!session.renewal.lost.aborted) await settle(deps, delivery, { kind: "abandon" });
          else delivery.settled = true;
          return;
        }
        enterPhase(slot, "handling");
      }
    } finally {
      delivery.trace?.end();
      session.current = undefined;
      session.job = undefined;
      slot.busy = false;
      if (!this.slots.some((s) => s.busy)) this.idle.wake();
    }
  }

  /** `atDrain`: an abandon after the drain timed out, a courtesy (the locks expire), so bounded. */
  private settleDeps(receiver: ServiceBusSessionReceiver, atDrain = false) {
    const { target, observer, settleTimeoutMs, closeTimeoutMs = settleTimeoutMs } = this.options;
    const timeoutMs = atDrain ? Math.min(settleTimeoutMs, closeTimeoutMs) : settleTimeoutMs;
    return { receiver, log: target.log, observer, settleTimeoutMs: timeoutMs } satisfies SettleDeps;
  }

  /** Sleeps unless the intake stops (or `also` aborts); resolves false when interrupted. */
  private async pause(ms: number, also?: AbortSignal): Promise<boolean> {
    const signal = also ? AbortSignal.any([this.intake.signal, also]) : this.intake.signal;
    try {
      await sleep(ms, undefined, { signal });
      return true;
    } catch {
      return false; // aborted: the caller checks why
    }
  }

  stopIntake(): Promise<void> {
    this.intake.abort();
    return Promise.resolve();
  }

  /** Waits until no slot is handling a message, up to `timeoutMs`; then aborts and abandons. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.slots.some((s) => s.busy)) {
      const finished = await this.idle.wait(timeoutMs);
      if (!finished) {
        const reason = new DrainTimeoutError();
        const busy = [...this.held].filter((s) => s.current && !s.current.settled);
        this.options.target.log.warn({ unsettled: busy.length }, "drain timeout; abandoning");
        await Promise.all(
          busy.map(async (s) => {
            const delivery = s.current!;
            delivery.controller.abort(reason);
            await settle(this.settleDeps(s.receiver, true), delivery, { kind: "abandon" });
          }),
        );
      }
    }
  }

  /**
   * Waits for every slot to stop. A slot waiting in `acceptNextSession` stops when its long-poll
   * ends (at most the accept timeout): the SDK cannot abort an accept in flight (7.9.5 passes no
   * signal to the link attach), and closing the client under it would leave a 60 s timer behind.
   */
  async close(): Promise<void> {
    this.intake.abort();
    await Promise.all([this.probing, ...this.slots.map((s) => s.done)]);
  }

  health(now: number): LoopHealth {
    const { livenessTimeoutMs, acceptTimeoutMs, failureQuietMs, target } = this.options;
    const idleTimeoutMs = target.binding.policy.sessionIdleTimeoutMs;
    const limits = { livenessTimeoutMs, acceptTimeoutMs, idleTimeoutMs, failureQuietMs };
    return {
      key: this.key,
      connected: this.connected,
      inFlight: [...this.held].filter((s) => s.current).length,
      ...slotsHealth(this.slots, limits, now),
    };
  }
}
