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
        await receiver.completeMessage(message);
        break;
      case "abandon":
        await receiver.abandonMessage(message);
        break;
      case "deadLetter":
        await receiver.deadLetterMessage(message, {
          deadLetterReason: settlement.reason,
          deadLetterErrorDescription: settlement.description,
        });
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
          await receiver.abandonMessage(message);
          break;
        }
        await receiver.completeMessage(message);
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
