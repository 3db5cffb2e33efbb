/**
 * Worker configuration from the environment, validated with zod. Every error names the key, the
 * expected form and what was found, e.g.
 * `SBW_CONCURRENCY: expected a positive integer, got "lots"`.
 */
import { z } from "zod";
import type { SubscriptionDefinition, TopologyShape, WorkerPolicy } from "../topics/dsl.js";
import { resolvePolicy, subscriptionKeys } from "../topics/dsl.js";
import { ConfigError } from "./errors.js";
import type { LedgerChoice } from "./ledger/index.js";
import { DEFAULT_OUTCOME_TTL_MS } from "./ledger/types.js";

export type ServiceBusConnection =
  | { readonly kind: "connectionString"; readonly connectionString: string }
  | {
      readonly kind: "namespace";
      /** Fully qualified, e.g. `contoso.servicebus.windows.net`. */
      readonly namespace: string;
      /** `default`: DefaultAzureCredential (workload identity, managed identity, az login...). */
      readonly credential: "default" | "managed-identity";
      /** Client id of a user-assigned managed identity. */
      readonly clientId: string | undefined;
    };

export interface WorkerConfig {
  /** Undefined when neither variable is set (`npm start` then starts the emulator). */
  readonly connection: ServiceBusConnection | undefined;
  /** `topic/subscription` keys to consume; undefined = every subscription that has handlers. */
  readonly subscriptions: readonly string[] | undefined;
  /** Environment overrides of every subscription's policy. */
  readonly policy: Partial<Omit<WorkerPolicy, "backoff">> & {
    readonly backoff: Partial<WorkerPolicy["backoff"]>;
  };
  /** Message locks are renewed while a handler runs, for at most this long. */
  readonly maxLockRenewalMs: number;
  /** `/livez` fails when a receive loop has made no progress for this long beyond its expected wait. */
  readonly livenessTimeoutMs: number;
  /** Undefined port disables the HTTP server (`SBW_HTTP_PORT=off`). */
  readonly http: { readonly port: number | undefined; readonly host: string };
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /**
   * How long one `acceptNextSession` long-polls. Session receivers use a client of their own with
   * this operation timeout, because the SDK cannot abort an accept in flight: a drain waits for
   * pending accepts, so this bounds how long an idle session consumer takes to stop.
   */
  readonly sessionAcceptTimeoutMs: number;
  /**
   * How long each step of the shutdown besides the drain itself may take: stopping the scheduler
   * and the receivers, the drain's abandons, closing a consumer, a client, the ledger store. Past it the worker stops waiting and goes on (a network
   * partition would otherwise hold the close for good): the broker frees a dead connection's
   * links, and locks expire.
   */
  readonly closeTimeoutMs: number;
  /** SDK retry options for every Service Bus operation. */
  readonly serviceBus: {
    readonly timeoutMs: number;
    readonly maxRetries: number;
    readonly retryDelayMs: number;
  };
  /** Idempotency ledger and long jobs (issue 4, docs/reliability.md). */
  readonly jobs: {
    readonly ledger: LedgerChoice;
    /** A claim's lease; renewed every third of it while the handler runs. */
    readonly leaseMs: number;
    /** How long a recorded outcome (and a cancellation) is kept. */
    readonly outcomeTtlMs: number;
    /** At most one `JobProgress` per job per this interval. */
    readonly progressIntervalMs: number;
    /** Test-only fault injection (`SBW_FAULT`); never set in production. */
    readonly fault: "exit-before-complete" | undefined;
  };
  /** Schedules (docs/schedules.md): whether this worker schedules ticks, and how far ahead. */
  readonly schedules: { readonly enabled: boolean; readonly horizonMs: number };
  /** Settings of the reference domain's handlers. */
  readonly reference: {
    readonly outboxDir: string | undefined;
    /** Sends the reference e-mails over SMTP instead of into the outbox. */
    readonly smtpUrl: string | undefined;
    readonly reportsDir: string | undefined;
    readonly reportChunkDelayMs: number | undefined;
  };
}

/** The defaults the deploy manifests' grace period is computed from (src/deploy/timing.ts). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
export const DEFAULT_SESSION_ACCEPT_TIMEOUT_MS = 5_000;

const INT = /^\d+$/;
const ms = (what = "milliseconds") =>
  z.string().regex(INT, `expected a non-negative integer (${what})`).transform(Number).optional();
const positive = (what?: string) =>
  z
    .string()
    .regex(/^[1-9]\d*$/, what ? `expected a positive integer (${what})` : "expected a positive integer")
    .transform(Number)
    .optional();
const count = (what: string) =>
  z.string().regex(INT, `expected a non-negative integer (${what})`).transform(Number).optional();

const schema = z.object({
  SERVICEBUS_CONNECTION_STRING: z
    .string()
    .regex(
      /(^|;)\s*Endpoint\s*=\s*sb:\/\/[^;]+/i,
      "expected a connection string with Endpoint=sb://<host>[:port]/;...",
    )
    .optional(),
  SERVICEBUS_NAMESPACE: z
    .string()
    .regex(
      /^(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)(:\d+)?$/,
      "expected a fully qualified namespace such as contoso.servicebus.windows.net",
    )
    .optional(),
  SBW_CREDENTIAL: z.enum(["default", "managed-identity"], "expected default or managed-identity").optional(),
  AZURE_CLIENT_ID: z.string().optional(),
  SBW_SUBSCRIPTIONS: z
    .string()
    .regex(
      /^\s*[^/,\s]+\/[^/,\s]+\s*(,\s*[^/,\s]+\/[^/,\s]+\s*)*$/,
      "expected a comma-separated list of topic/subscription, e.g. orders/fulfillment,orders/audit",
    )
    .optional(),
  SBW_CONCURRENCY: positive(),
  SBW_MAX_CONCURRENT_SESSIONS: positive(),
  SBW_SESSION_IDLE_TIMEOUT_MS: ms(),
  SBW_DRAIN_TIMEOUT_MS: ms(),
  SBW_MAX_ATTEMPTS: positive(),
  SBW_RETRY_BASE_DELAY_MS: ms(),
  SBW_RETRY_MAX_DELAY_MS: ms(),
  SBW_MAX_LOCK_RENEWAL_MS: ms(),
  SBW_LIVENESS_TIMEOUT_MS: ms(),
  SBW_HTTP_PORT: z
    .string()
    .refine(
      (v) => v === "off" || (/^\d{1,5}$/.test(v) && Number(v) <= 65_535),
      "expected a TCP port 0-65535 or off",
    )
    .optional(),
  SBW_HTTP_HOST: z.string().min(1, "expected a host or address to listen on").optional(),
  SBW_LOG_LEVEL: z
    .enum(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      "expected one of fatal, error, warn, info, debug, trace, silent",
    )
    .optional(),
  SBW_SESSION_ACCEPT_TIMEOUT_MS: ms(),
  SBW_CLOSE_TIMEOUT_MS: positive("milliseconds"),
  SBW_SERVICEBUS_TIMEOUT_MS: ms(),
  SBW_SERVICEBUS_MAX_RETRIES: count("retries"),
  SBW_SERVICEBUS_RETRY_DELAY_MS: ms(),
  SBW_OUTBOX_DIR: z.string().min(1).optional(),
  SBW_SMTP_URL: z
    .string()
    .regex(
      /^smtps?:\/\/[^\s/]+(:\d+)?\/?(\?\S*)?$/,
      "expected smtp://[user:password@]host[:port] or smtps://… (a URL-encoded password)",
    )
    .optional(),
  SBW_REPORTS_DIR: z.string().min(1).optional(),
  SBW_REPORT_CHUNK_DELAY_MS: ms(),
  SBW_LEDGER: z.enum(["redis", "memory", "off"], "expected redis, memory or off").optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "expected redis://host:port or rediss://...")
    .optional(),
  SBW_LEDGER_PREFIX: z
    .string()
    .regex(/^[^{}\s]+$/, "expected a key prefix without spaces, { or }")
    .optional(),
  SBW_LEDGER_LEASE_MS: positive(),
  SBW_LEDGER_TIMEOUT_MS: positive("milliseconds"),
  SBW_LEDGER_TTL_MS: positive(),
  SBW_STALL_TIMEOUT_MS: positive(),
  SBW_PROGRESS_INTERVAL_MS: ms(),
  SBW_SCHEDULES: z.enum(["on", "off"], "expected on or off").optional(),
  SBW_SCHEDULE_HORIZON_MS: positive(),
  SBW_FAULT: z.enum(["exit-before-complete"], "expected exit-before-complete (test only)").optional(),
});

/** The keys this module reads (for docs and `sbworker run --help`). */
export const CONFIG_KEYS = Object.keys(schema.shape);
/** Values that may carry credentials: never echoed in an error. */
const SECRET_KEYS = new Set(["SERVICEBUS_CONNECTION_STRING", "REDIS_URL", "SBW_SMTP_URL"]);

export function loadConfig(env: Readonly<Record<string, string | undefined>>): WorkerConfig {
  // Empty strings count as unset: `FOO=` in a manifest should not be an error.
  const input = Object.fromEntries(
    CONFIG_KEYS.map((key) => [key, env[key] === undefined || env[key]?.trim() === "" ? undefined : env[key]]),
  );
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? "(environment)");
        const value = input[key];
        const shown = SECRET_KEYS.has(key) ? "(hidden)" : JSON.stringify(value);
        return `${key}: ${issue.message}, got ${shown}`;
      }),
    );
  }
  const e = parsed.data;
  if (e.SERVICEBUS_CONNECTION_STRING && e.SERVICEBUS_NAMESPACE) {
    throw new ConfigError([
      "SERVICEBUS_CONNECTION_STRING and SERVICEBUS_NAMESPACE: expected only one of them, got both",
    ]);
  }
  const base = e.SBW_RETRY_BASE_DELAY_MS;
  const max = e.SBW_RETRY_MAX_DELAY_MS;
  if (base !== undefined && max !== undefined && max < base) {
    throw new ConfigError([
      `SBW_RETRY_MAX_DELAY_MS: expected at least SBW_RETRY_BASE_DELAY_MS (${base}), got ${max}`,
    ]);
  }
  const ledgerKind = e.SBW_LEDGER ?? (e.REDIS_URL ? "redis" : "memory");
  if (ledgerKind === "redis" && !e.REDIS_URL) {
    throw new ConfigError(["REDIS_URL: expected a Redis URL with SBW_LEDGER=redis, got nothing"]);
  }
  const ledger: LedgerChoice =
    ledgerKind === "redis"
      ? {
          kind: "redis",
          url: e.REDIS_URL!,
          prefix: e.SBW_LEDGER_PREFIX ?? "sbw:ledger:",
          ...(e.SBW_LEDGER_TIMEOUT_MS !== undefined ? { commandTimeoutMs: e.SBW_LEDGER_TIMEOUT_MS } : {}),
        }
      : { kind: ledgerKind };
  const connection: ServiceBusConnection | undefined = e.SERVICEBUS_CONNECTION_STRING
    ? { kind: "connectionString", connectionString: e.SERVICEBUS_CONNECTION_STRING }
    : e.SERVICEBUS_NAMESPACE
      ? {
          kind: "namespace",
          namespace: e.SERVICEBUS_NAMESPACE,
          credential: e.SBW_CREDENTIAL ?? "default",
          clientId: e.AZURE_CLIENT_ID,
        }
      : undefined;
  const defined = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    connection,
    subscriptions: e.SBW_SUBSCRIPTIONS?.split(",").map((s) => s.trim()),
    policy: {
      ...defined({
        concurrency: e.SBW_CONCURRENCY,
        maxConcurrentSessions: e.SBW_MAX_CONCURRENT_SESSIONS,
        sessionIdleTimeoutMs: e.SBW_SESSION_IDLE_TIMEOUT_MS,
        drainTimeoutMs: e.SBW_DRAIN_TIMEOUT_MS,
        maxAttempts: e.SBW_MAX_ATTEMPTS,
        stallTimeoutMs: e.SBW_STALL_TIMEOUT_MS,
      }),
      backoff: defined({ baseMs: base, maxMs: max }),
    },
    maxLockRenewalMs: e.SBW_MAX_LOCK_RENEWAL_MS ?? 60 * 60_000,
    livenessTimeoutMs: e.SBW_LIVENESS_TIMEOUT_MS ?? 120_000,
    sessionAcceptTimeoutMs: e.SBW_SESSION_ACCEPT_TIMEOUT_MS ?? DEFAULT_SESSION_ACCEPT_TIMEOUT_MS,
    closeTimeoutMs: e.SBW_CLOSE_TIMEOUT_MS ?? DEFAULT_CLOSE_TIMEOUT_MS,
    http: {
      port: e.SBW_HTTP_PORT === "off" ? undefined : Number(e.SBW_HTTP_PORT ?? 8080),
      host: e.SBW_HTTP_HOST ?? "0.0.0.0",
    },
    logLevel: e.SBW_LOG_LEVEL ?? "info",
    serviceBus: {
      timeoutMs: e.SBW_SERVICEBUS_TIMEOUT_MS ?? 60_000,
      maxRetries: e.SBW_SERVICEBUS_MAX_RETRIES ?? 3,
      retryDelayMs: e.SBW_SERVICEBUS_RETRY_DELAY_MS ?? 1_000,
    },
    jobs: {
      ledger,
      leaseMs: e.SBW_LEDGER_LEASE_MS ?? 30_000,
      outcomeTtlMs: e.SBW_LEDGER_TTL_MS ?? DEFAULT_OUTCOME_TTL_MS,
      progressIntervalMs: e.SBW_PROGRESS_INTERVAL_MS ?? 1_000,
      fault: e.SBW_FAULT,
    },
    schedules: { enabled: e.SBW_SCHEDULES !== "off", horizonMs: e.SBW_SCHEDULE_HORIZON_MS ?? 120_000 },
    reference: {
      outboxDir: e.SBW_OUTBOX_DIR,
      smtpUrl: e.SBW_SMTP_URL,
      reportsDir: e.SBW_REPORTS_DIR,
      reportChunkDelayMs: e.SBW_REPORT_CHUNK_DELAY_MS,
    },
  };
}

/** One subscription this process consumes, with its resolved policy. */
export interface SubscriptionBinding {
  readonly topic: string;
  readonly subscription: string;
  readonly key: string;
  readonly definition: SubscriptionDefinition;
  readonly policy: WorkerPolicy;
}

/**
 * The subscriptions to consume: `SBW_SUBSCRIPTIONS` checked against the topology and the handler
 * registry, or by default every subscription with at least one handler.
 */
export function selectSubscriptions(
  topology: TopologyShape,
  withHandlers: readonly string[],
  config: Pick<WorkerConfig, "subscriptions" | "policy">,
): SubscriptionBinding[] {
  const known = subscriptionKeys(topology);
  const selected = config.subscriptions ?? known.filter((k) => withHandlers.includes(k));
  const issues: string[] = [];
  for (const key of selected) {
    if (!known.includes(key))
      issues.push(`SBW_SUBSCRIPTIONS: unknown subscription "${key}" (known: ${known.join(", ")})`);
    else if (!withHandlers.includes(key))
      issues.push(`SBW_SUBSCRIPTIONS: subscription "${key}" has no handlers`);
  }
  if (selected.length === 0)
    issues.push("SBW_SUBSCRIPTIONS: expected at least one subscription with handlers");
  if (issues.length) throw new ConfigError(issues);
  return [...new Set(selected)].map((key) => {
    const [topic = "", subscription = ""] = key.split("/");
    const definition = topology[topic]!.subscriptions[subscription]!;
    const policy = resolvePolicy(definition);
    const o = config.policy;
    return {
      topic,
      subscription,
      key,
      definition,
      policy: {
        maxAttempts: o.maxAttempts ?? policy.maxAttempts,
        backoff: {
          baseMs: o.backoff.baseMs ?? policy.backoff.baseMs,
          maxMs: o.backoff.maxMs ?? policy.backoff.maxMs,
        },
        concurrency: o.concurrency ?? policy.concurrency,
        maxConcurrentSessions: o.maxConcurrentSessions ?? policy.maxConcurrentSessions,
        sessionIdleTimeoutMs: o.sessionIdleTimeoutMs ?? policy.sessionIdleTimeoutMs,
        drainTimeoutMs: o.drainTimeoutMs ?? policy.drainTimeoutMs,
        stallTimeoutMs: o.stallTimeoutMs ?? policy.stallTimeoutMs,
        jobEvents: policy.jobEvents,
      },
    };
  });
}
