/**
 * How `sbworker dlq` connects: as the worker does (src/worker/client.ts), from
 * `--connection-string`, else SERVICEBUS_CONNECTION_STRING, else SERVICEBUS_NAMESPACE with an
 * Azure credential (DefaultAzureCredential, or SBW_CREDENTIAL=managed-identity + AZURE_CLIENT_ID).
 *
 * Retries: SBW_SERVICEBUS_TIMEOUT_MS / _MAX_RETRIES / _RETRY_DELAY_MS, the worker's variables.
 * Defaults are shorter than the worker's because an operator is waiting at the terminal.
 */
import { RetryMode, type ServiceBusClient, type ServiceBusClientOptions } from "@azure/service-bus";
import { createServiceBusClient } from "../../worker/client.js";
import { finishedWithin } from "../../worker/deadline.js";
import type { ServiceBusConnection } from "../../worker/config.js";
import { DlqError } from "./errors.js";

type Env = Readonly<Record<string, string | undefined>>;

const CONNECTION_STRING = /(^|;)\s*Endpoint\s*=\s*sb:\/\/[^;]+/i;
const NAMESPACE = /^(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)(:\d+)?$/;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function resolveConnection(env: Env, connectionStringFlag?: string): ServiceBusConnection {
  const connectionString = nonEmpty(connectionStringFlag) ?? nonEmpty(env.SERVICEBUS_CONNECTION_STRING);
  if (connectionString !== undefined) {
    if (!CONNECTION_STRING.test(connectionString))
      throw new DlqError("BadUsage", "connection string: expected Endpoint=sb://<host>[:port]/;...");
    return { kind: "connectionString", connectionString };
  }
  const namespace = nonEmpty(env.SERVICEBUS_NAMESPACE);
  if (namespace !== undefined) {
    if (!NAMESPACE.test(namespace))
      throw new DlqError(
        "BadUsage",
        `SERVICEBUS_NAMESPACE: expected a fully qualified namespace such as contoso.servicebus.windows.net, got "${namespace}"`,
      );
    const credential = nonEmpty(env.SBW_CREDENTIAL) ?? "default";
    if (credential !== "default" && credential !== "managed-identity")
      throw new DlqError(
        "BadUsage",
        `SBW_CREDENTIAL: expected default or managed-identity, got "${credential}"`,
      );
    return { kind: "namespace", namespace, credential, clientId: nonEmpty(env.AZURE_CLIENT_ID) };
  }
  throw new DlqError(
    "BadUsage",
    "no connection: set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE, or pass --connection-string",
  );
}

/** `positive`: 0 is refused too (a duration in ms that must pass). */
function intFromEnv(env: Env, key: string, fallback: number, positive = false): number {
  const text = nonEmpty(env[key]);
  if (text === undefined) return fallback;
  if (!(positive ? /^[1-9]\d*$/ : /^\d+$/).test(text)) {
    const expected = positive ? "a positive integer (ms)" : "a non-negative integer";
    throw new DlqError("BadUsage", `${key}: expected ${expected}, got "${text}"`);
  }
  return Number(text);
}

export function dlqClientOptions(env: Env): ServiceBusClientOptions {
  const retryDelayInMs = intFromEnv(env, "SBW_SERVICEBUS_RETRY_DELAY_MS", 500);
  return {
    retryOptions: {
      timeoutInMs: intFromEnv(env, "SBW_SERVICEBUS_TIMEOUT_MS", 30_000),
      maxRetries: intFromEnv(env, "SBW_SERVICEBUS_MAX_RETRIES", 3),
      retryDelayInMs,
      maxRetryDelayInMs: Math.max(retryDelayInMs, 10_000),
      mode: RetryMode.Exponential,
    },
  };
}

/**
 * How long `sbworker dlq` waits for a settlement (SBW_SERVICEBUS_TIMEOUT_MS, as every operation)
 * and for each close (SBW_CLOSE_TIMEOUT_MS; 5 s here, shorter than the worker's 10 s, as an
 * operator is waiting). In a partition the SDK would wait 60 s per settlement and for good on a
 * sender's close.
 */
export function dlqTimeouts(env: Env): { settleTimeoutMs: number; closeTimeoutMs: number } {
  return {
    settleTimeoutMs: intFromEnv(env, "SBW_SERVICEBUS_TIMEOUT_MS", 30_000),
    closeTimeoutMs: intFromEnv(env, "SBW_CLOSE_TIMEOUT_MS", 5_000, true),
  };
}

/**
 * Waits for a close for at most `ms`, then goes on without it (a network partition would hold it
 * for good; what is left behind goes with the process). Never rejects: a close is best effort.
 */
export async function closeWithin(close: Promise<unknown>, ms: number | undefined): Promise<void> {
  await finishedWithin(close, ms).catch(() => false);
}

/** Opens the client; creating it does no I/O, so failures show up on first use. */
export async function openClient(env: Env, connectionStringFlag?: string): Promise<ServiceBusClient> {
  return createServiceBusClient(resolveConnection(env, connectionStringFlag), dlqClientOptions(env));
}
