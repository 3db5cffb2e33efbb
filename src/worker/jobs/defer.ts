/**
 * Deferring a plain-subscription delivery without running it (its key is held by another live
 * holder, or the ledger is unreachable): schedule a copy for later, then complete the original, as
 * a retry does, but the copy keeps the same attempt number (the handler did not run) and gets a
 * MessageId of its own, so it can never collide with a retry copy's deterministic id.
 */
import { randomUUID } from "node:crypto";
import { ATTR, EVENT } from "../../telemetry/attributes.js";
import { PROPERTY, retryCopy } from "../properties.js";
import type { Settlement } from "../policy.js";
import type { Delivery, SettleDeps } from "../settle.js";
import { settle } from "../settle.js";

/** Not shorter (a busy loop) nor longer (a job that finished elsewhere waits too long) than this. */
export const MIN_DEFER_MS = 1_000;
export const MAX_DEFER_MS = 60_000;

export function deferDelay(remainingMs: number): number {
  return Math.min(MAX_DEFER_MS, Math.max(MIN_DEFER_MS, Math.ceil(remainingMs) + 250));
}

export async function deferByCopy(deps: SettleDeps, delivery: Delivery, delayMs: number): Promise<void> {
  if (delivery.settled) return;
  const { message, event } = delivery;
  if (!deps.sender) throw new Error("deferring by copy needs the topic's sender");
  const at = new Date(Date.now() + delayMs);
  const copy = retryCopy(message, event.subscription, event.attempt, at);
  const root = String(copy.applicationProperties?.[PROPERTY.rootMessageId] ?? event.messageId);
  try {
    await deps.sender.scheduleMessages(
      { ...copy, messageId: `${root.slice(0, 80)}~wait~${randomUUID()}` },
      at,
    );
  } catch (error) {
    deps.log.error({ err: error, messageId: event.messageId }, "scheduling the wait copy failed; abandoning");
    return settle(deps, delivery, { kind: "abandon" });
  }
  // Settled as complete; observers see a `retry` whose next attempt is this one (no attempt used).
  delivery.settled = true;
  const settlement = { kind: "retry", delayMs, nextAttempt: event.attempt } as const;
  const settling = delivery.trace?.startSettle();
  try {
    await deps.receiver.completeMessage(message);
    settling?.end(settlement);
    deps.observer.settled({ settlement, durationMs: Date.now() - delivery.startedAt, ...event });
  } catch (error) {
    settling?.end(settlement, error);
    deps.log.warn({ err: error, messageId: event.messageId }, "completing a deferred message failed");
    deps.observer.settleFailed({ error, ...event });
  }
}

/** A delivery the ledger says not to run: its key is done (complete) or cancelled (dead-letter). */
export async function settleSkipped(
  deps: SettleDeps,
  delivery: Delivery,
  skip: { readonly why: "done" | "cancelled"; readonly settlement: Settlement },
): Promise<void> {
  delivery.trace?.event(EVENT.ledgerSkipped, { [ATTR.ledgerWhy]: skip.why });
  deps.log.info(
    { messageId: delivery.event.messageId, attempt: delivery.event.attempt },
    skip.why === "done"
      ? "job already done; completed without running"
      : "job cancelled before it started; dead-lettering",
  );
  await settle(deps, delivery, skip.settlement);
}
