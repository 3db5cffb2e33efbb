/** The ServiceBusClient, from a connection string or a namespace with an Azure credential. */
import { RetryMode, ServiceBusClient, type ServiceBusClientOptions } from "@azure/service-bus";
import type { TokenCredential } from "@azure/identity";
import type { ServiceBusConnection, WorkerConfig } from "./config.js";

/** The SDK's longest delay between retries, as configured below. */
const maxRetryDelayMs = (config: Pick<WorkerConfig, "serviceBus">): number =>
  Math.max(config.serviceBus.retryDelayMs, 30_000);

/**
 * The longest an SDK operation can go without reporting, retries included: every attempt runs
 * into its timeout and waits the longest delay. A receive loop silent for longer has stopped trying.
 */
export function retryCycleMs(config: Pick<WorkerConfig, "serviceBus">, operationTimeoutMs: number): number {
  return (config.serviceBus.maxRetries + 1) * (operationTimeoutMs + maxRetryDelayMs(config));
}

export function clientOptions(config: Pick<WorkerConfig, "serviceBus">): ServiceBusClientOptions {
  return {
    retryOptions: {
      timeoutInMs: config.serviceBus.timeoutMs,
      maxRetries: config.serviceBus.maxRetries,
      retryDelayInMs: config.serviceBus.retryDelayMs,
      maxRetryDelayInMs: maxRetryDelayMs(config),
      mode: RetryMode.Exponential,
    },
  };
}

/**
 * Connection string: used as is (the emulator's has `UseDevelopmentEmulator=true`, plain TCP).
 * Namespace: Microsoft Entra ID through @azure/identity (loaded only then): DefaultAzureCredential
 * covers AKS workload identity, managed identity and a developer's `az login`;
 * `SBW_CREDENTIAL=managed-identity` pins ManagedIdentityCredential (with `AZURE_CLIENT_ID` for a
 * user-assigned identity).
 */
export async function createServiceBusClient(
  connection: ServiceBusConnection,
  options: ServiceBusClientOptions,
): Promise<ServiceBusClient> {
  if (connection.kind === "connectionString")
    return new ServiceBusClient(connection.connectionString, options);
  return new ServiceBusClient(connection.namespace, await createCredential(connection), options);
}

/** The Entra ID credential for a namespace connection (also used by `dlq list`'s administration client). */
export async function createCredential(
  connection: Extract<ServiceBusConnection, { kind: "namespace" }>,
): Promise<TokenCredential> {
  const identity = await import("@azure/identity");
  return connection.credential === "managed-identity"
    ? new identity.ManagedIdentityCredential(connection.clientId ? { clientId: connection.clientId } : {})
    : new identity.DefaultAzureCredential(
        connection.clientId ? { managedIdentityClientId: connection.clientId } : {},
      );
}
