/**
 * Shared helpers for the emulator integration tests: Config.json builders, an emulator + SDK client
 * fixture that closes everything it opened, and small receive/assert utilities.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";

import {
  isServiceBusError,
  ServiceBusClient,
  type ServiceBusClientOptions,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from "@azure/service-bus";

import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EntitySnapshot,
} from "../../src/emulator/index.js";

/** The SDK's sequence-number type (a `long` Long), without importing the transitive `long` package. */
export type SequenceNumber = NonNullable<ServiceBusReceivedMessage["sequenceNumber"]>;

export type JsonProps = Record<string, unknown>;

export interface QueueConfig {
  readonly Name: string;
  readonly Properties?: JsonProps;
}

export interface RuleConfig {
  readonly Name: string;
  readonly Properties: JsonProps;
}

export interface SubscriptionConfig {
  readonly Name: string;
  readonly Properties?: JsonProps;
  readonly Rules?: readonly RuleConfig[];
}

export interface TopicConfig {
  readonly Name: string;
  readonly Properties?: JsonProps;
  readonly Subscriptions: readonly SubscriptionConfig[];
}

/** An official-emulator Config.json object with the given entities. */
export function configJson(entities: {
  queues?: readonly QueueConfig[];
  topics?: readonly TopicConfig[];
}): unknown {
  return {
    UserConfig: {
      Namespaces: [
        {
          Name: "sbemulatorns",
          Queues: (entities.queues ?? []).map((q) => ({ Name: q.Name, Properties: q.Properties ?? {} })),
          Topics: (entities.topics ?? []).map((t) => ({
            Name: t.Name,
            Properties: t.Properties ?? {},
            Subscriptions: t.Subscriptions.map((s) => ({
              Name: s.Name,
              Properties: s.Properties ?? {},
              ...(s.Rules ? { Rules: s.Rules } : {}),
            })),
          })),
        },
      ],
      Logging: { Type: "Console" },
    },
  };
}

/** A SQL-filter rule, optionally with a SQL action, in Config.json form. */
export function sqlRule(name: string, expression: string, action?: string): RuleConfig {
  return {
    Name: name,
    Properties: {
      FilterType: "Sql",
      SqlFilter: { SqlExpression: expression },
      ...(action === undefined ? {} : { Action: { SqlExpression: action } }),
    },
  };
}

/** A correlation-filter rule in Config.json form. */
export function correlationRule(name: string, filter: JsonProps): RuleConfig {
  return { Name: name, Properties: { FilterType: "Correlation", CorrelationFilter: filter } };
}

/** Small retry budget so that retryable errors surface in seconds, not 30 s per retry. */
export const FAST_RETRY: NonNullable<ServiceBusClientOptions["retryOptions"]> = {
  maxRetries: 0,
  timeoutInMs: 5000,
};

/**
 * One emulator plus every SDK client opened against it; `close()` closes the clients first (the
 * mocha run has no --exit, so a leaked client would hang it) and then the emulator.
 */
export class EmulatorFixture {
  private readonly clients = new Set<ServiceBusClient>();

  private constructor(readonly emulator: Emulator) {}

  static async start(options: EmulatorOptions): Promise<EmulatorFixture> {
    return new EmulatorFixture(await startEmulator({ port: 0, ...options }));
  }

  get connectionString(): string {
    return this.emulator.connectionString;
  }

  /** A new tracked client; pass a connection string to override the emulator's. */
  client(
    options: ServiceBusClientOptions = {},
    connectionString = this.emulator.connectionString,
  ): ServiceBusClient {
    const client = new ServiceBusClient(connectionString, { retryOptions: FAST_RETRY, ...options });
    this.clients.add(client);
    return client;
  }

  async closeClient(client: ServiceBusClient): Promise<void> {
    this.clients.delete(client);
    await client.close();
  }

  /** Counts of one queue (`q`) or subscription (`t/Subscriptions/s`). */
  entity(name: string): EntitySnapshot {
    const found = this.emulator.snapshot().entities.find((e) => e.name.toLowerCase() === name.toLowerCase());
    assert.ok(found, `entity ${name} is not in the snapshot`);
    return found;
  }

  async close(): Promise<void> {
    const clients = [...this.clients];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
    await this.emulator.close();
  }
}

/**
 * Receives until `count` messages arrived or `maxWaitTimeInMs` passed (real time), asking for exactly
 * the missing number each time so that peek-lock batches return as soon as they are complete.
 */
export async function receiveExactly(
  receiver: ServiceBusReceiver,
  count: number,
  maxWaitTimeInMs = 5000,
): Promise<ServiceBusReceivedMessage[]> {
  const received: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + maxWaitTimeInMs;
  while (received.length < count) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const batch = await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: remaining });
    received.push(...batch);
  }
  assert.equal(received.length, count, `expected ${count} messages, received ${received.length}`);
  return received;
}

/** Receives one message, failing the test when none arrives. */
export async function receiveOne(
  receiver: ServiceBusReceiver,
  maxWaitTimeInMs = 5000,
): Promise<ServiceBusReceivedMessage> {
  const [message] = await receiveExactly(receiver, 1, maxWaitTimeInMs);
  return message!;
}

/** Asserts that a receive over a short window returns nothing. */
export async function assertNothingToReceive(
  receiver: ServiceBusReceiver,
  maxWaitTimeInMs = 300,
): Promise<void> {
  const messages = await receiver.receiveMessages(1, { maxWaitTimeInMs });
  assert.deepEqual(
    messages.map((m) => m.body as unknown),
    [],
    "expected no message",
  );
}

/** Asserts that `work` rejects with a ServiceBusError whose code is one of `codes`; returns the error. */
export async function expectServiceBusError(
  work: Promise<unknown> | (() => Promise<unknown>),
  ...codes: string[]
): Promise<Error> {
  let error: unknown;
  try {
    await (typeof work === "function" ? work() : work);
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `expected a ServiceBusError ${codes.join(" or ")}, but the call succeeded`);
  assert.ok(
    isServiceBusError(error),
    `expected a ServiceBusError ${codes.join(" or ")}, got ${inspect(error)}`,
  );
  assert.ok(
    codes.includes(error.code),
    `expected ServiceBusError code ${codes.join(" or ")}, got ${error.code}: ${error.message}`,
  );
  return error;
}

/** Polls `predicate` every 20 ms until it holds or `timeoutMs` passed (real time). */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sorted bodies, for order-insensitive comparisons. */
export function bodies(messages: readonly ServiceBusReceivedMessage[]): unknown[] {
  return messages.map((m) => m.body as unknown).sort((a, b) => String(a).localeCompare(String(b)));
}
