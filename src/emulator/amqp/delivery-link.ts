/**
 * A client's receiver link, seen from the emulator: it delivers messages within the client's
 * credit and turns the client's dispositions into settlement on the entity.
 *
 * Outcomes (servicebus-amqp.md §6): accepted = complete; modified with undeliverable-here =
 * defer, without = abandon; rejected with `com.microsoft:dead-letter` = dead-letter; released =
 * abandon. Every disposition is settled by the emulator with an error-free state on success, or
 * `rejected{error}` on failure; the client's own error is never echoed back.
 */
import type { DeliveryTarget } from "../broker/delivery.js";
import type { Entity } from "../broker/entity.js";
import { isBrokerError, Condition } from "../broker/errors.js";
import type { StoredMessage } from "../broker/message.js";
import { encodeForDelivery } from "../broker/message.js";
import { lockTokenToDeliveryTag } from "./guid.js";
import { message } from "./rhea.js";
import type { AmqpErrorInfo, RheaDelivery, RheaLink } from "./rhea.js";

const EMPTY_TAG = Buffer.alloc(0);

export class DeliveryLink implements DeliveryTarget {
  readonly owner: object;
  constructor(
    readonly link: RheaLink,
    readonly entity: Entity,
    readonly sessionId: string | undefined,
    readonly receiveAndDelete: boolean,
  ) {
    this.owner = link as object;
    installDrainFix(link);
  }

  /**
   * rhea takes credit off the link only when it writes a transfer, a tick after `send`; the
   * deliveries handed over but not yet written still count against the client's credit, or a
   * receiver asking for one message would be sent (and locked) several.
   */
  private readonly unsent: RheaDelivery[] = [];

  credit(): number {
    if (!this.link.is_open()) return 0;
    const written = this.link.session.outgoing.next_pending_delivery as number;
    while (this.unsent.length > 0 && (this.unsent[0].id as number) < written) this.unsent.shift();
    // rhea's outgoing buffer holds 2048 deliveries per session; never hand it more than it has room for.
    const room = this.link.session.outgoing.available() as number;
    return Math.min((this.link.credit as number) - this.unsent.length, room);
  }

  deliver(m: StoredMessage, lockToken: string | undefined): void {
    const bytes = encodeForDelivery(m, {
      lockedUntil: lockToken !== undefined ? m.lockedUntil : undefined,
      state: m.state === "deferred" ? 1 : undefined,
    });
    const tag = lockToken !== undefined ? lockTokenToDeliveryTag(lockToken) : EMPTY_TAG;
    const delivery = this.link.send(bytes, tag, 0);
    delivery.sbwLockToken = lockToken;
    this.unsent.push(delivery);
  }

  sessionLockLost(sessionId: string): void {
    this.link.close({
      condition: Condition.sessionLockLost,
      description: `The session lock has expired on the MessageSession '${sessionId}'. Accept a new MessageSession.`,
    });
  }

  /** Settles one client disposition. */
  settle(delivery: RheaDelivery, kind: "accepted" | "released" | "modified" | "rejected"): void {
    const token = delivery.sbwLockToken as string | undefined;
    if (token === undefined || delivery.settled === true) return;
    try {
      this.settleLocked(delivery, token, kind);
    } finally {
      // In peek-lock the client never settles after our settlement; rhea frees a delivery only
      // when both ends have, so without this every link stalls once its delivery buffer is full.
      delivery.remote_settled = true;
    }
  }

  private settleLocked(
    delivery: RheaDelivery,
    token: string,
    kind: "accepted" | "released" | "modified" | "rejected",
  ): void {
    const state = delivery.remote_state as Record<string, unknown> | undefined;
    try {
      switch (kind) {
        case "accepted":
          this.entity.complete(token);
          delivery.update(true, message.accepted().described());
          return;
        case "released":
          this.entity.abandon(token, {});
          delivery.update(true, message.released().described());
          return;
        case "modified": {
          const props = (state?.message_annotations as Record<string, unknown> | undefined) ?? {};
          if (state?.undeliverable_here === true) this.entity.defer(token, props);
          else this.entity.abandon(token, props);
          delivery.update(true, message.modified().described());
          return;
        }
        case "rejected": {
          const error = state?.error as { info?: Record<string, unknown> } | undefined;
          const info = { ...(error?.info ?? {}) };
          const reason = info.DeadLetterReason;
          const description = info.DeadLetterErrorDescription;
          delete info.DeadLetterReason;
          delete info.DeadLetterErrorDescription;
          this.entity.deadLetterLocked(token, {
            reason: typeof reason === "string" ? reason : undefined,
            description: typeof description === "string" ? description : undefined,
            properties: info,
          });
          delivery.update(true, message.rejected().described());
          return;
        }
      }
    } catch (error) {
      delivery.update(true, message.rejected({ error: toAmqpError(error) }).described());
    }
  }
}

export function toAmqpError(error: unknown): AmqpErrorInfo {
  if (isBrokerError(error)) return { condition: error.condition, description: error.message };
  return {
    condition: Condition.internal,
    description: error instanceof Error ? error.message : String(error),
  };
}

/**
 * rhea answers a drain request only while credit remains; when the last message used the credit
 * up, the client would wait out its timeout and recycle the link. Always answer a drain.
 */
function installDrainFix(link: RheaLink): void {
  link._get_drain = function (this: RheaLink): boolean {
    if (this._draining && this._drained) {
      this.delivery_count += this.credit;
      this.credit = 0;
      this._draining = false;
      return true;
    }
    return false;
  };
}

/** Answers a pending drain once everything available has been sent. */
export function answerDrain(link: RheaLink): void {
  if (!link._draining) return;
  link._drained = true;
  link.issue_flow = true;
  link.connection._register();
}
