import type { FilterableMessage, SqlValue } from "../../../src/emulator/sql/index.js";

export const ENQUEUED = new Date("2024-01-02T03:04:05Z");
export const LATER = new Date("2024-06-01T00:00:00Z");

/** A message with a bit of everything; `overrides` replace whole property bags' entries. */
export function message(
  user: Record<string, SqlValue | undefined> = {},
  system: Record<string, SqlValue | undefined> = {},
): FilterableMessage {
  return {
    system: {
      MessageId: "m-1",
      CorrelationId: "corr-1",
      Label: "bus-stop",
      To: "Store5",
      ReplyTo: "replies",
      SessionId: "s-1",
      ContentType: "application/json",
      SequenceNumber: 42,
      EnqueuedTimeUtc: ENQUEUED,
      DeliveryCount: 1,
      TimeToLive: 60_000,
      ...system,
    },
    user: {
      color: "red",
      quantity: 10,
      odd: 5,
      price: 2.5,
      flag: true,
      nothing: null,
      when: LATER,
      path: "50%_off",
      pat: "r_d",
      Mixed: "Case",
      "Property With Space": "yes",
      "HR-EmployeeID": 7,
      "a]b": 1,
      'say "hi"': "hi",
      ...user,
    },
  };
}
