/**
 * The tick message: what every worker sends for one tick of one schedule. Pure: the same inputs
 * give the same message on every pod, which is what lets duplicate detection keep one copy.
 *
 * Application properties:
 * - `idempotency-key` = the tick id, so the ledger runs the tick once per subscription even when a
 *   copy slips past the broker (catch-up after the duplicate-detection window, a wiped window);
 * - `sbw-schedule` = the schedule name, `sbw-tick` = the fire time (ISO 8601 UTC),
 *   `sbw-schedule-fingerprint` = the definition's fingerprint (the tick handler skips stale ticks);
 * - `sbw-replay-to` = the target subscription, when the schedule names one.
 */
import type { ServiceBusMessage } from "@azure/service-bus";
import type { ScheduleDefinition, TickInfo } from "../../topics/scheduleDsl.js";
import { IDEMPOTENCY_KEY_PROPERTY } from "../jobs/key.js";
import { PROPERTY } from "../properties.js";
import { tickId } from "./ticks.js";

export const SCHEDULE_PROPERTY = {
  schedule: "sbw-schedule",
  tick: "sbw-tick",
  fingerprint: "sbw-schedule-fingerprint",
} as const;

/** Builds the SDK message for a payload (validation included); the publisher's `toMessage`. */
export type ToMessage = (
  topic: string,
  subject: string,
  payload: unknown,
  options: {
    readonly messageId: string;
    readonly applicationProperties: Readonly<Record<string, string | number | boolean>>;
  },
) => ServiceBusMessage;

export function tickInfo(schedule: ScheduleDefinition, at: number): TickInfo {
  const iso = new Date(at).toISOString();
  return {
    schedule: schedule.name,
    at: new Date(at),
    iso,
    id: tickId(schedule.name, at, schedule.fingerprint),
  };
}

/** The tick message for `at` (without a scheduled enqueue time: the sender adds it). */
export function tickMessage(
  schedule: ScheduleDefinition,
  at: number,
  toMessage: ToMessage,
): ServiceBusMessage {
  const tick = tickInfo(schedule, at);
  return toMessage(schedule.topic, schedule.subject, schedule.payload(tick), {
    messageId: tick.id,
    applicationProperties: {
      [IDEMPOTENCY_KEY_PROPERTY]: tick.id,
      [SCHEDULE_PROPERTY.schedule]: schedule.name,
      [SCHEDULE_PROPERTY.tick]: tick.iso,
      [SCHEDULE_PROPERTY.fingerprint]: schedule.fingerprint,
      ...(schedule.subscription !== undefined ? { [PROPERTY.replayTo]: schedule.subscription } : {}),
    },
  });
}

/** What a received message says about its tick; undefined for a message that is not a tick. */
export function readTick(
  properties: Readonly<Record<string, unknown>>,
):
  | { readonly name: string; readonly at: number; readonly iso: string; readonly fingerprint: string }
  | undefined {
  const name = properties[SCHEDULE_PROPERTY.schedule];
  const iso = properties[SCHEDULE_PROPERTY.tick];
  const fingerprint = properties[SCHEDULE_PROPERTY.fingerprint];
  if (typeof name !== "string" || typeof iso !== "string" || typeof fingerprint !== "string")
    return undefined;
  const at = Date.parse(iso);
  return Number.isFinite(at) ? { name, at, iso, fingerprint } : undefined;
}
