/**
 * The consumer of one plain (session-less) subscription.
 *
 * Intake is the SDK's streaming receiver (`subscribe`, peek-lock, `autoCompleteMessages: false`,
 * `maxConcurrentCalls` = the subscription's concurrency): it keeps exactly `concurrency` credits
 * out and adds one back when a `processMessage` call returns, so the SDK itself bounds the handlers
 * in flight. (A `receiveMessages` loop was the alternative; it holds a partial batch up to 1 s
 * after its first message, which costs latency at low load.) The SDK's lock auto-renewal is off:
 * ./lockRenewal.ts renews while the handler runs.
 *
 * Per delivery, top to bottom: received → (draining? abandon) → renew lock → dispatch → policy →
 * settle. A `retry` schedules a copy of the message on the topic (`sbw-replay-to` routes it back to
 * this subscription only, `sbw-attempt` carries the count) and then completes the original, so a
 * waiting retry holds no concurrency slot and no lock. Schedule-then-complete: if the process dies
 * in between, the original is redelivered and may run again while the copy is also pending, at
 * least once, never lost; the copy's deterministic MessageId lets duplicate detection drop the
 * second copy the redelivered original would schedule.
 *
 * INVARIANT: every received message is settled exactly once, or its lock is left to expire on
 * purpose (settling failed, or the lock was lost during the handler): see ./settle.ts.
 */
import type {
  MessageHandlers,
  ServiceBusClient,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusSender,
} from "@azure/service-bus";
import type { DispatchTarget } from "./dispatch.js";
import { handleAttempt } from "./dispatch.js";
import { DrainTimeoutError } from "./errors.js";
import type { LockRenewal } from "./lockRenewal.js";
import { startLockRenewal } from "./lockRenewal.js";
import type { WorkerObserver } from "./observer.js";
import { ATTR, EVENT } from "../telemetry/attributes.js";
import { LockLostError } from "./jobs/abort.js";
import { deferByCopy, settleSkipped } from "./jobs/defer.js";
import type { SubscriptionJobs } from "./jobs/runtime.js";
import { decideSettlement } from "./policy.js";
import { attemptOf, messageIdText } from "./properties.js";
import type { LoopHealth, ReceiveLoop } from "./receiveLoop.js";
import type { Delivery, SettleDeps } from "./settle.js";
import { ErrorStreak, RECEIVE_LINES } from "./errorStreak.js";
import { failureHealth } from "./receiveLoop.js";
import { IdleGate } from "./idleGate.js";
import { newDelivery, settle } from "./settle.js";

export interface ConsumerOptions {
  readonly client: ServiceBusClient;
  readonly target: DispatchTarget;
  readonly observer: Required<WorkerObserver>;
  readonly maxLockRenewalMs: number;
  readonly livenessTimeoutMs: number;
  /** The longest a failing receiver that still tries goes without reporting (../receiveLoop.ts). */
  readonly failureQuietMs: number;
  /** Ledger admission, heartbeats, checkpoints (./jobs/runtime.ts). */
  readonly jobs: SubscriptionJobs;
  /** Bounds the abandons of a drain that timed out (absent: the SDK's timeout and retries). */
  readonly closeTimeoutMs?: number;
  readonly random?: () => number;
}

const iso = (t: number | undefined): string => (t === undefined ? "?" : new Date(t).toISOString());

export class SubscriptionConsumer implements ReceiveLoop {
  readonly key: string;
  private receiver: ServiceBusReceiver | undefined;
  private sender: ServiceBusSender | undefined;
  private subscription: { close(): Promise<void> } | undefined;
  private readonly inFlight = new Set<Delivery>();
  private readonly idle = new IdleGate();
  private draining = false;
  private connected = false;
  private deps: SettleDeps | undefined;
  /** Also the loop's failure state for health: failing since, last failure (./errorStreak.ts). */
  private readonly streak: ErrorStreak;

  constructor(private readonly options: ConsumerOptions) {
    this.key = options.target.binding.key;
    this.streak = new ErrorStreak({ log: options.target.log, lines: RECEIVE_LINES });
  }

  start(): Promise<void> {
    const { client, target } = this.options;
    const { subscription, policy } = target.binding;
    this.receiver = client.createReceiver(target.topic.name, subscription, {
      receiveMode: "peekLock",
      maxAutoLockRenewalDurationInMs: 0,
      skipParsingBodyAsJson: true,
    });
    this.sender = client.createSender(target.topic.name);
    // `postInitialize` is an SDK-internal hook (InternalMessageHandlers in 7.9.5), called each time
    // the link is (re)attached; it is what tells readiness that the broker is reachable.
    const handlers: MessageHandlers & { postInitialize: () => Promise<void> } = {
      processMessage: (message) => this.process(message),
      processError: async (args) => this.onReceiveError(args.error, args.errorSource),
      postInitialize: async () => {
        this.connected = true;
        this.streak.recovered();
        return Promise.resolve();
      },
    };
    this.subscription = this.receiver.subscribe(handlers, {
      autoCompleteMessages: false,
      maxConcurrentCalls: policy.concurrency,
    });
    target.log.info({ concurrency: policy.concurrency }, "consumer started");
    return Promise.resolve();
  }

  /** Called by the SDK for each message; never throws (a throw would make the SDK abandon). */
  private async process(message: ServiceBusReceivedMessage): Promise<void> {
    const { target, observer } = this.options;
    const attempt = attemptOf(message);
    const delivery = newDelivery(message, {
      topic: target.binding.topic,
      subscription: target.binding.subscription,
      messageId: messageIdText(message.messageId),
      sessionId: message.sessionId,
      subject: message.subject,
      attempt,
      deliveryCount: message.deliveryCount ?? 0,
      enqueuedTimeUtc: message.enqueuedTimeUtc,
    });
    delivery.trace = target.tracing?.start(message, delivery.event);
    let renewal: LockRenewal | undefined;
    this.connected = true;
    this.streak.recovered();
    this.inFlight.add(delivery);
    try {
      // Arrived while the drain was stopping intake: hand it straight back.
      if (this.draining) return await settle(this.settleDeps(), delivery, { kind: "abandon" });

      // Idempotency ledger: done → complete unrun; cancelled → dead-letter; held → wait copy.
      const admission = await this.options.jobs.admit(message, delivery);
      if (admission.kind === "skip") return await settleSkipped(this.settleDeps(), delivery, admission);
      if (admission.kind === "held") {
        delivery.trace?.event(EVENT.ledgerHeld, { [ATTR.ledgerWhy]: admission.why });
        // An unreachable ledger is logged once per outage by the job runtime.
        if (admission.why === "held")
          target.log.info({ messageId: delivery.event.messageId }, "job held by another worker; deferred");
        return await deferByCopy(this.settleDeps(), delivery, admission.retryInMs);
      }
      const job = admission.job;
      renewal = startLockRenewal({
        lockedUntil: () => message.lockedUntilUtc,
        renew: () => this.receiver!.renewMessageLock(message),
        // Heartbeat-gated: the job stops it (stall, or maxLockRenewal for a silent handler).
        maxRenewalMs: Number.POSITIVE_INFINITY,
        shouldRenew: job.shouldRenewLock,
        onRenewed: () => {
          delivery.trace?.event(EVENT.lockRenewed, { [ATTR.lock]: "message" });
          observer.lockRenewed({ subscription: this.key, lock: "message", id: delivery.event.messageId });
        },
        onLost: (error) => {
          delivery.trace?.event(EVENT.lockLost, { [ATTR.lock]: "message" });
          observer.lockLost({ subscription: this.key, lock: "message", id: delivery.event.messageId });
          job.abort(new LockLostError("message", { cause: error }));
        },
        onError: (error) =>
          target.log.warn({ err: error, messageId: delivery.event.messageId }, "lock renewal failed"),
      });

      job.start();
      const outcome = await handleAttempt(target, observer, delivery, attempt, job.context);
      const settlement = decideSettlement({
        outcome,
        attempt,
        handler: `${this.key}/${message.subject ?? ""}`,
        policy: target.binding.policy,
        ...(this.options.random ? { random: this.options.random } : {}),
      });
      if (renewal.isLost) {
        // The broker has already taken the message back; settling would fail. Leave it.
        target.log.warn({ messageId: delivery.event.messageId }, "lock lost during handler; not settling");
        delivery.settled = true;
        return await job.finish(outcome, undefined);
      }
      if (outcome.kind === "failed") {
        target.log.warn(
          { err: outcome.error, messageId: delivery.event.messageId, attempt },
          "handler failed",
        );
      }
      await job.finish(outcome, settlement); // a success is recorded before `complete` is sent
      await settle(this.settleDeps(), delivery, settlement);
    } finally {
      renewal?.stop();
      delivery.trace?.end();
      this.inFlight.delete(delivery);
      if (this.inFlight.size === 0) this.idle.wake();
    }
  }

  private settleDeps(): SettleDeps {
    // Built once: the receiver and sender are set in start() and never replaced.
    return (this.deps ??= {
      receiver: this.receiver!,
      sender: this.sender!,
      log: this.options.target.log,
      observer: this.options.observer,
    });
  }

  private onReceiveError(error: unknown, source: string): Promise<void> {
    if (this.draining && source === "receive") return Promise.resolve();
    this.streak.failed(error, { source });
    this.options.observer.receiveError({ subscription: this.key, error });
    return Promise.resolve();
  }

  async stopIntake(): Promise<void> {
    this.draining = true;
    await this.subscription?.close();
  }

  /** Waits for in-flight handlers up to `timeoutMs`; then aborts them and abandons what is unsettled. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.inFlight.size > 0) {
      const finished = await this.idle.wait(timeoutMs);
      if (!finished) {
        const reason = new DrainTimeoutError();
        const unsettled = [...this.inFlight].filter((d) => !d.settled);
        this.options.target.log.warn({ unsettled: unsettled.length }, "drain timeout; abandoning");
        for (const delivery of unsettled) delivery.controller.abort(reason);
        // A courtesy (the locks expire anyway), so bounded: the connection may be gone.
        const deps = { ...this.settleDeps(), settleTimeoutMs: this.options.closeTimeoutMs };
        await Promise.all(unsettled.map((d) => settle(deps, d, { kind: "abandon" })));
      }
    }
  }

  async close(): Promise<void> {
    this.draining = true;
    await this.subscription?.close();
    await this.sender?.close();
    await this.receiver?.close();
  }

  health(now: number): LoopHealth {
    const since = this.streak.failingSince;
    const lastAt = this.streak.lastFailureAt;
    const { failing, wedged } = failureHealth(
      { since, lastAt },
      { livenessTimeoutMs: this.options.livenessTimeoutMs, quietMs: this.options.failureQuietMs },
      now,
    );
    const detail = wedged
      ? `receive failing since ${iso(since)}, and no attempt since ${iso(lastAt ?? since)}`
      : `receive failing since ${iso(since)}`;
    return {
      key: this.key,
      connected: this.connected,
      failing,
      wedged,
      inFlight: this.inFlight.size,
      ...(failing ? { detail } : {}),
    };
  }
}
