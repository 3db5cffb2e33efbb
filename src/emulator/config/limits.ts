/**
 * Ranges and defaults, in two modes: real Azure Service Bus (the default, so a config that works
 * here also works in the cloud) and the official emulator's tighter limits (`strictOfficial`, so a
 * config that loads here also loads in Microsoft's emulator).
 */
import { DEFAULTS } from "../topology.js";
import { FOREVER_DURATION, formatDuration } from "./duration.js";

export interface DurationRange {
  readonly minMs: number;
  /** Undefined: no bound below `TimeSpan.MaxValue`. */
  readonly maxMs: number | undefined;
  /** Whether `TimeSpan.MaxValue` is accepted, meaning "never" (an undefined TTL). */
  readonly allowsForever: boolean;
  /** The range in words, for error messages. */
  readonly allowed: string;
}

export interface ConfigLimits {
  readonly mode: "azure" | "official";
  readonly lockDuration: DurationRange;
  readonly duplicateDetectionWindow: DurationRange;
  readonly defaultMessageTtl: DurationRange;
  readonly maxDeliveryCount: { readonly min: number; readonly max: number };
  /** Queues plus topics in the namespace. */
  readonly maxEntities: number | undefined;
  readonly maxSubscriptionsPerTopic: number | undefined;
  /** The only namespace name accepted, when there is one. */
  readonly namespaceName: string | undefined;
  readonly defaults: {
    readonly lockDurationMs: number;
    readonly maxDeliveryCount: number;
    readonly duplicateDetectionWindowMs: number;
    /** Undefined: messages never expire. */
    readonly defaultMessageTtlMs: number | undefined;
    readonly maxMessageSizeBytes: number;
  };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function range(minMs: number, maxMs: number | undefined, allowsForever = false): DurationRange {
  let allowed =
    maxMs === undefined
      ? `an ISO-8601 duration of at least ${formatDuration(minMs)}`
      : `an ISO-8601 duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`;
  if (allowsForever) allowed += `, or ${FOREVER_DURATION} (never expires)`;
  return { minMs, maxMs, allowsForever, allowed };
}

/** Real Azure Service Bus (Standard tier). */
export const AZURE_LIMITS: ConfigLimits = {
  mode: "azure",
  lockDuration: range(5 * SECOND, 5 * MINUTE),
  duplicateDetectionWindow: range(20 * SECOND, 7 * DAY),
  defaultMessageTtl: range(SECOND, undefined, true),
  maxDeliveryCount: { min: 1, max: 2000 },
  maxEntities: undefined,
  maxSubscriptionsPerTopic: undefined,
  namespaceName: undefined,
  defaults: {
    lockDurationMs: DEFAULTS.lockDurationMs,
    maxDeliveryCount: DEFAULTS.maxDeliveryCount,
    duplicateDetectionWindowMs: DEFAULTS.duplicateDetectionWindowMs,
    defaultMessageTtlMs: undefined,
    maxMessageSizeBytes: DEFAULTS.maxMessageSizeBytes,
  },
};

/** Microsoft's Service Bus emulator, per its Config-schema.json and documentation. */
export const OFFICIAL_LIMITS: ConfigLimits = {
  mode: "official",
  lockDuration: range(5 * SECOND, 5 * MINUTE),
  duplicateDetectionWindow: range(5 * SECOND, 5 * MINUTE),
  defaultMessageTtl: range(5 * MINUTE, HOUR),
  maxDeliveryCount: { min: 1, max: 10 },
  maxEntities: 50,
  maxSubscriptionsPerTopic: 50,
  namespaceName: "sbemulatorns",
  defaults: {
    lockDurationMs: MINUTE,
    maxDeliveryCount: 3,
    duplicateDetectionWindowMs: 20 * SECOND,
    defaultMessageTtlMs: HOUR,
    maxMessageSizeBytes: 256 * 1024,
  },
};
