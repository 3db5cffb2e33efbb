/**
 * Carrying out a settlement decision, once. Shared by both consumers.
 *
 * INVARIANT: every received message is settled exactly once (`delivery.settled` is set before the
 * broker call, so a late handler result or a second drain stage cannot settle it again), or, when
 * the settle call fails (lock already lost, link gone), its lock is left to expire on purpose and
 * the broker redelivers it, with MaxDeliveryCount as the backstop.
 */
import type { ServiceBusReceivedMessage, ServiceBusReceiver, ServiceBusSender } from "@azure/service-bus";
import type { Logger } from "pino";
import type { DeliveryTrace } from "../telemetry/tracing.js";
import { LazyAbortController } from "./lazyAbort.js";
import { isLockLost } from "./lockRenewal.js";
import type { DeliveryEvent, WorkerObserver } from "./observer.js";
import { observes } from "./observer.js";
import { withDeadline as bounded } from "./deadline.js";
import { SettleTimeoutError } from "./errors.js";
import type { Settlement } from "./policy.js";
import { retryCopy } from "./properties.js";

/**
 * One message being handled. A class, not an object literal: V8 may pretenure a literal's
 * allocation site into old space, and an old object pointing at the young message keeps the
 * whole delivery alive through every minor GC until the next full one (docs/performance.md).
 */
export class Delivery {
  /** Aborts the handler's `ctx.signal` (created only if the handler reads it). */
  readonly controller = new LazyAbortController();
  readonly startedAt = Date.now();
  settled = false;
  /** The CONSUMER span of the current attempt (src/telemetry/tracing.ts), when tracing is wired. */
  trace: DeliveryTrace | undefined = undefined;

  constructor(
    readonly message: ServiceBusReceivedMessage,
    public event: DeliveryEvent,
  ) {}
}

export interface SettleDeps {
  readonly receiver: ServiceBusReceiver;
  /** The topic's sender, for retry copies (plain subscriptions only). */
  readonly sender?: ServiceBusSender;
  readonly log: Logger;
  readonly observer: Required<WorkerObserver>;
  /**
   * Give a receiver's settlement up as failed after this long. Session receivers need it: SDK
   * 7.9.5 waits its fixed 60 s for a session message's disposition whatever the retry options say
   * (a disposition sent into a connection that just died is never answered), and the session's
   * slot would be held that long. Absent: the SDK's own timeout (its retry options).
   */
  readonly settleTimeoutMs?: number;
}

/** A settlement bounded by `ms` (undefined: the SDK's own timeout applies), else a SettleTimeoutError. */
function withDeadline(call: Promise<void>, ms: number | undefined): Promise<void> {
  return bounded(call, ms, () => new SettleTimeoutError(ms!));
}

/** `event` carries the message's enqueued time (the queue-wait metric reads it). */
export function newDelivery(
  message: ServiceBusReceivedMessage,
  event: DeliveryEvent & Pick<ServiceBusReceivedMessage, "enqueuedTimeUtc">,
): Delivery {
  return new Delivery(message, event);
}

export async function settle(deps: SettleDeps, delivery: Delivery, decision: Settlement): Promise<void> {
  if (delivery.settled) return;
  delivery.settled = true;
  const { receiver, log, observer } = deps;
  const { message, event } = delivery;
  let settlement = decision;
  const settling = delivery.trace?.startSettle();
  try {
    switch (settlement.kind) {
      case "complete":
        await withDeadline(receiver.completeMessage(message), deps.settleTimeoutMs);
        break;
      case "abandon":
        await withDeadline(receiver.abandonMessage(message), deps.settleTimeoutMs);
        break;
      case "deadLetter":
        await withDeadline(
          receiver.deadLetterMessage(message, {
            deadLetterReason: settlement.reason,
            deadLetterErrorDescription: settlement.description,
          }),
          deps.settleTimeoutMs,
        );
        break;
      case "retry": {
        if (!deps.sender) throw new Error("retry by scheduled copy needs the topic's sender");
        const at = new Date(Date.now() + settlement.delayMs);
        try {
          // Schedule first, then complete: a crash in between repeats work but loses nothing.
          await deps.sender.scheduleMessages(
            retryCopy(message, event.subscription, settlement.nextAttempt, at),
            at,
          );
        } catch (error) {
          // No copy: hand the message back instead (redelivered at once, delivery count + 1).
          log.error(
            { err: error, messageId: event.messageId },
            "scheduling the retry copy failed; abandoning",
          );
          settlement = { kind: "abandon" };
          await withDeadline(receiver.abandonMessage(message), deps.settleTimeoutMs);
          break;
        }
        await withDeadline(receiver.completeMessage(message), deps.settleTimeoutMs);
        break;
      }
    }
    settling?.end(settlement);
    if (observes(observer, "settled"))
      // Extra fields before the spread: see eventWith (src/worker/observer.ts).
      observer.settled({ settlement, durationMs: Date.now() - delivery.startedAt, ...event });
  } catch (error) {
    settling?.end(settlement, error);
    log[isLockLost(error) ? "warn" : "error"](
      { err: error, messageId: event.messageId, settlement: settlement.kind },
      "settlement failed; the lock will expire and the broker redelivers",
    );
    observer.settleFailed({ error, ...event });
  }
}
