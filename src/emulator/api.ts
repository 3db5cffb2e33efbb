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
  /**
   * Plain-HTTP port of the administration API (ATOM, what `ServiceBusAdministrationClient`
   * calls); 0 (the default) picks a free port, false turns it off. The AMQP port answers HTTP too.
   */
  readonly httpPort?: number | false;
  /**
   * Serve AMQPS and HTTPS (the administration API) on `tlsPort`, with a certificate generated on
   * first start (kept in `tlsDir`) or your own (`certPath`/`keyPath`). `caOut` gets a copy of the CA.
   */
  readonly tls?: boolean | EmulatorTlsOptions;
  /** TLS port; 0 (the default) picks a free port. The CLI uses 5671. */
  readonly tlsPort?: number;
  /** Generated TLS material and the token issuer key live here; default `~/.sbworker/emulator-tls`. */
  readonly tlsDir?: string;
  /**
   * Token checks: `any` accepts every token (the default without `sasKeys`), `sas` checks SAS
   * tokens against `sasKeys` (the default with them), `entra` also accepts JWTs signed by the
   * local issuer key and checks their audience, expiry and Send/Listen/Manage role per operation.
   */
  readonly auth?: "any" | "sas" | "entra";
  /** PEM key (private or public) that `entra` tokens must be signed with; default `<tlsDir>/issuer-key.pem`. */
  readonly entraIssuerKey?: string;
}

export interface EmulatorTlsOptions {
  readonly certPath?: string;
  readonly keyPath?: string;
  readonly caOut?: string;
  /** Host names the generated certificate must cover besides localhost, 127.0.0.1 and ::1. */
  readonly hostnames?: readonly string[];
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
  /** Plain-HTTP administration API port (undefined when turned off). */
  readonly httpPort: number | undefined;
  /** AMQPS + HTTPS port (undefined without TLS). */
  readonly tlsPort: number | undefined;
  /** The CA file to put in `NODE_EXTRA_CA_CERTS` (undefined without TLS). */
  readonly caPath: string | undefined;
  /** `localhost:<tlsPort>`, for `new ServiceBusClient(namespace, credential)` (undefined without TLS). */
  readonly fullyQualifiedNamespace: string | undefined;
  readonly clock: Clock;
  snapshot(): EmulatorSnapshot;
  /** Stops listening, closes every connection with `amqp:connection:forced`, stops timers. */
  close(): Promise<void>;
}
