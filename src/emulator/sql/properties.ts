/**
 * Where `sys.X` and `user.X` names point. System names are case-insensitive and map to the
 * canonical keys of `FilterableMessage.system`; the names of the current SDK
 * (`ServiceBusMessage.Subject`, `ScheduledEnqueueTime`, ...) are accepted as aliases, as the
 * service does. User names follow the documented "property names are case-insensitive": an
 * exact key wins, otherwise the first key equal ignoring case.
 */

import type { SqlValue } from "./types.js";

export const SYSTEM_PROPERTIES = [
  "MessageId",
  "CorrelationId",
  "To",
  "ReplyTo",
  "Label",
  "SessionId",
  "ReplyToSessionId",
  "ContentType",
  "SequenceNumber",
  "EnqueuedTimeUtc",
  "ScheduledEnqueueTimeUtc",
  "DeliveryCount",
  "TimeToLive",
  "Size",
  "ExpiresAtUtc",
  "PartitionKey",
  "LockToken",
  "DeadLetterSource",
  "EnqueuedSequenceNumber",
  "State",
] as const;

export type SystemPropertyName = (typeof SYSTEM_PROPERTIES)[number];

const ALIASES: Readonly<Record<string, SystemPropertyName>> = {
  subject: "Label",
  scheduledenqueuetime: "ScheduledEnqueueTimeUtc",
  enqueuedtime: "EnqueuedTimeUtc",
  expiresat: "ExpiresAtUtc",
};

const BY_LOWER_NAME: ReadonlyMap<string, SystemPropertyName> = new Map([
  ...SYSTEM_PROPERTIES.map((name) => [name.toLowerCase(), name] as const),
  ...Object.entries(ALIASES),
]);

/** The canonical key for a `sys.` name, or undefined when the message has no such property. */
export function canonicalSystemProperty(name: string): SystemPropertyName | undefined {
  return BY_LOWER_NAME.get(name.toLowerCase());
}

/** How an action converts a value before storing it in a settable system property. */
export type SystemPropertyType = "string" | "date" | "duration";

/**
 * The system properties a rule action may SET or REMOVE: those with a public setter on the
 * message (.NET `ServiceBusMessage` / `BrokeredMessage`). Broker-assigned ones (SequenceNumber,
 * EnqueuedTimeUtc, DeliveryCount, LockToken, ...) are read-only.
 */
export const SETTABLE_SYSTEM_PROPERTIES: ReadonlyMap<SystemPropertyName, SystemPropertyType> = new Map<
  SystemPropertyName,
  SystemPropertyType
>([
  ["MessageId", "string"],
  ["CorrelationId", "string"],
  ["To", "string"],
  ["ReplyTo", "string"],
  ["Label", "string"],
  ["SessionId", "string"],
  ["ReplyToSessionId", "string"],
  ["ContentType", "string"],
  ["PartitionKey", "string"],
  ["ScheduledEnqueueTimeUtc", "date"],
  ["TimeToLive", "duration"],
]);

/** The key under which `name` is stored in `user`: the exact key, else one equal ignoring case. */
export function findUserKey(user: Record<string, SqlValue | undefined>, name: string): string | undefined {
  if (Object.hasOwn(user, name)) return name;
  const lower = name.toLowerCase();
  for (const key of Object.keys(user)) {
    if (key.toLowerCase() === lower) return key;
  }
  return undefined;
}

/** The raw user property value; undefined when absent. Own keys only, so `constructor` is not found. */
export function readUserProperty(user: Record<string, SqlValue | undefined>, name: string): unknown {
  if (Object.hasOwn(user, name)) return user[name];
  const key = findUserKey(user, name);
  return key === undefined ? undefined : user[key];
}

/** The raw system property value; undefined when absent. */
export function readSystemProperty(
  system: Record<string, SqlValue | undefined>,
  name: SystemPropertyName,
): unknown {
  return Object.hasOwn(system, name) ? system[name] : undefined;
}
