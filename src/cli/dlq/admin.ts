/**
 * Dead-letter counts from the Service Bus administration API (ATOM over HTTPS), for `dlq list`.
 *
 * The administration client connects like the data plane (./connection.ts): a connection string,
 * or the namespace with the same Entra ID credential as the worker. It needs Manage rights (Azure
 * Service Bus Data Owner); without them the service answers 401/403 and `dlq list` falls back to
 * peeking.
 *
 * `ServiceBusAdministrationClient` 7.9.5 always calls `https://<host>[:port]/`. Against Azure and
 * against the emulator with `--tls` that is right as it is. A development-emulator connection
 * string (`UseDevelopmentEmulator=true`, plain TCP) gets one pipeline policy that rewrites the
 * scheme to `http:` after signing: sbworker's emulator answers HTTP on its AMQP port (the port in
 * the string), Microsoft's emulator on 5300 (its strings name no port).
 */
import {
  ServiceBusAdministrationClient,
  type ServiceBusAdministrationClientOptions,
} from "@azure/service-bus";
import { createCredential } from "../../worker/client.js";
import { dlqClientOptions, resolveConnection } from "./connection.js";
import { sourceLabel, type SourceEntity } from "./entity.js";
import { oneLine } from "../oneLine.js";

type Env = Readonly<Record<string, string | undefined>>;
type PipelinePolicy = Parameters<ServiceBusAdministrationClient["pipeline"]["addPolicy"]>[0];

/** Microsoft's emulator serves the administration API here; its connection strings name no port. */
export const OFFICIAL_EMULATOR_ADMIN_PORT = 5300;

/** The dead-letter count of one queue or subscription, from its runtime properties. */
export interface AdminCount {
  readonly entity: string;
  readonly deadLetters: number | undefined;
  readonly activeMessages: number | undefined;
  /** Messages that could not be forwarded (`$Transfer/$DeadLetterQueue`); shown when not 0. */
  readonly transferDeadLetters: number | undefined;
  readonly error?: string;
}

/** Why the administration API cannot be used; `dlq list` then peeks. */
export class AdminUnavailable extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = "AdminUnavailable";
  }
}

/** The fields of @azure/core-rest-pipeline's RestError that matter here. */
interface RestErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly statusCode?: number;
}

function restError(error: unknown): RestErrorLike | undefined {
  return typeof error === "object" && error !== null ? error : undefined;
}

/**
 * Refused (401/403), unreachable (no HTTP answer: DNS, refused, TLS) or broken (5xx): the
 * administration path is given up. A 404 is an answer about one entity, not about the API; a
 * credential that cannot get a token is the caller's problem whichever path it takes.
 */
export function adminUnavailable(error: unknown): AdminUnavailable | undefined {
  if (error instanceof AdminUnavailable) return error;
  const e = restError(error);
  // No token at all (@azure/identity's errors): peeking would fail the same way.
  if (e?.name === "CredentialUnavailableError" || e?.name?.endsWith("AuthenticationError")) return undefined;
  const status = e?.statusCode;
  if (status === 401 || status === 403)
    return new AdminUnavailable(`refused (${status}${e?.code ? ` ${e.code}` : ""}: needs Manage)`, {
      cause: error,
    });
  if (status === undefined)
    return new AdminUnavailable(`unreachable (${e?.code ?? oneLine(error)})`, { cause: error });
  if (status >= 500) return new AdminUnavailable(`failed (${status}: ${oneLine(error)})`, { cause: error });
  return undefined;
}

/** `https://` → `http://` (and the port, when given) after signing; only for development emulators. */
export function plainHttpPolicy(port: number | undefined): PipelinePolicy {
  return {
    name: "sbworkerDevelopmentEmulatorHttp",
    sendRequest(request, next) {
      const url = new URL(request.url);
      url.protocol = "http:";
      if (port !== undefined) url.port = String(port);
      request.url = url.toString();
      request.allowInsecureConnection = true;
      return next(request);
    },
  };
}

/** `UseDevelopmentEmulator=true` in a connection string, and the endpoint's port if it has one. */
export function developmentEmulator(connectionString: string): { port: number | undefined } | undefined {
  const parts = new Map(
    connectionString
      .split(";")
      .map((p) => p.trim())
      .filter((p) => p.includes("="))
      .map((p) => [p.slice(0, p.indexOf("=")).trim().toLowerCase(), p.slice(p.indexOf("=") + 1).trim()]),
  );
  if (parts.get("usedevelopmentemulator")?.toLowerCase() !== "true") return undefined;
  const endpoint = /^sb:\/\/[^/:;]+(?::(\d+))?/i.exec(parts.get("endpoint") ?? "");
  return { port: endpoint?.[1] === undefined ? undefined : Number(endpoint[1]) };
}

/** The administration client for the same namespace and identity as `openClient`. */
export async function openAdminClient(
  env: Env,
  connectionStringFlag?: string,
): Promise<ServiceBusAdministrationClient> {
  const connection = resolveConnection(env, connectionStringFlag);
  const retry = dlqClientOptions(env).retryOptions;
  const options: ServiceBusAdministrationClientOptions = {
    retryOptions: {
      maxRetries: retry?.maxRetries ?? 3,
      retryDelayInMs: retry?.retryDelayInMs ?? 500,
      maxRetryDelayInMs: retry?.maxRetryDelayInMs ?? 10_000,
    },
  };
  if (connection.kind === "namespace")
    return new ServiceBusAdministrationClient(
      connection.namespace,
      await createCredential(connection),
      options,
    );
  const admin = new ServiceBusAdministrationClient(connection.connectionString, options);
  const emulator = developmentEmulator(connection.connectionString);
  if (emulator !== undefined)
    admin.pipeline.addPolicy(plainHttpPolicy(emulator.port ?? OFFICIAL_EMULATOR_ADMIN_PORT), {
      phase: "Sign",
    });
  return admin;
}

function row(
  entity: string,
  p: { deadLetterMessageCount: number; activeMessageCount: number; transferDeadLetterMessageCount: number },
): AdminCount {
  return {
    entity,
    deadLetters: p.deadLetterMessageCount,
    activeMessages: p.activeMessageCount,
    transferDeadLetters: p.transferDeadLetterMessageCount,
  };
}

/** Every queue and every subscription of every topic in the namespace. */
export async function countAll(
  admin: ServiceBusAdministrationClient,
  signal: AbortSignal,
): Promise<AdminCount[]> {
  const rows: AdminCount[] = [];
  try {
    for await (const q of admin.listQueuesRuntimeProperties({ abortSignal: signal }))
      rows.push(row(q.name, q));
    const topics: string[] = [];
    for await (const t of admin.listTopics({ abortSignal: signal })) topics.push(t.name);
    for (const topic of topics) {
      for await (const s of admin.listSubscriptionsRuntimeProperties(topic, { abortSignal: signal }))
        rows.push(row(`${topic}/${s.subscriptionName}`, s));
    }
  } catch (error) {
    throw adminUnavailable(error) ?? error;
  }
  return rows;
}

/** The named entities only; one that is missing gets an error in its row. */
export async function countEntities(
  admin: ServiceBusAdministrationClient,
  sources: readonly SourceEntity[],
  signal: AbortSignal,
): Promise<AdminCount[]> {
  const rows: AdminCount[] = [];
  for (const source of sources) {
    const entity = sourceLabel(source);
    try {
      const p =
        source.kind === "queue"
          ? await admin.getQueueRuntimeProperties(source.queue, { abortSignal: signal })
          : await admin.getSubscriptionRuntimeProperties(source.topic, source.subscription, {
              abortSignal: signal,
            });
      rows.push(row(entity, p));
    } catch (error) {
      const unavailable = adminUnavailable(error);
      if (unavailable) throw unavailable;
      const status = restError(error)?.statusCode;
      rows.push({
        entity,
        deadLetters: undefined,
        activeMessages: undefined,
        transferDeadLetters: undefined,
        error: status === 404 ? `${entity}: not found` : `${entity}: ${oneLine(error)}`,
      });
    }
  }
  return rows;
}
