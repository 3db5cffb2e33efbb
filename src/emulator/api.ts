/** The emulator's public types. */
import type { Clock } from "./clock.js";
import type { Topology } from "./topology.js";

export interface EmulatorOptions {
  /** An official-emulator `Config.json` object, already parsed. */
  readonly config?: unknown;
  /** Or a path to one. */
  readonly configPath?: string;
  /** Or a normalized topology. With none of the three, the default topology is used. */
  readonly topology?: Topology;
  /** Port to listen on; 0 (the default) picks a free port. */
  readonly port?: number;
  /** Interface to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Enforce the official emulator's limits instead of real-Azure ranges. */
  readonly strictOfficial?: boolean;
  /** When given, CBS checks SAS tokens against these keys (name to key) instead of accepting any. */
  readonly sasKeys?: Readonly<Record<string, string>>;
  /** The time source; a `ManualClock` lets tests advance time. */
  readonly clock?: Clock;
  /** Receives one line per notable event (connections, refused links). */
  readonly log?: (line: string) => void;
}

/** Message counts of one queue or subscription. */
export interface EntitySnapshot {
  readonly name: string;
  readonly kind: "queue" | "subscription";
  /** Available to receive now (not locked, not deferred, not scheduled). */
  readonly active: number;
  /** Locked by a receiver (peek-lock) and not yet settled. */
  readonly locked: number;
  readonly scheduled: number;
  readonly deferred: number;
  readonly deadLettered: number;
  /** Distinct session ids with messages or state. */
  readonly sessions: number;
}

export interface EmulatorSnapshot {
  readonly entities: readonly EntitySnapshot[];
  /** Scheduled messages waiting at topic level (they fan out when due). */
  readonly topics: readonly { readonly name: string; readonly scheduled: number }[];
  readonly connections: number;
}

export interface Emulator extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** A connection string the official SDK accepts (`UseDevelopmentEmulator=true`, plain TCP). */
  readonly connectionString: string;
  readonly clock: Clock;
  snapshot(): EmulatorSnapshot;
  /** Stops listening, closes every connection with `amqp:connection:forced`, stops timers. */
  close(): Promise<void>;
}
