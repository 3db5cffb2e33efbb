/**
 * Shared pieces of the dlq integration suite: an emulator on port 0 built from a small topology
 * (so every subscription has the topology's replay rule) plus one queue, SDK clients that are
 * closed with it, a way to make dead letters, and `dlq(...)` that runs the CLI in-process with
 * captured output and a controllable AbortSignal.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  ServiceBusClient,
  type ServiceBusClientOptions,
  type ServiceBusMessage,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from "@azure/service-bus";
import { z } from "zod";
import { runCli } from "../../../src/cli/index.js";
import {
  startEmulator,
  type Clock,
  type Emulator,
  type EntitySnapshot,
} from "../../../src/emulator/index.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { toEmulatorConfig } from "../../../src/topics/emulatorConfig.js";

export const shop = defineTopic({
  name: "shop",
  duplicateDetection: { windowMs: 10 * 60_000 },
  messages: { OrderPlaced: z.unknown(), OrderShipped: z.unknown() },
  subscriptions: {
    billing: { maxDeliveryCount: 1, lockDurationMs: 30_000 },
    shipping: { maxDeliveryCount: 1, lockDurationMs: 30_000 },
    audit: { maxDeliveryCount: 1, lockDurationMs: 30_000 },
  },
});
export const topology = { shop } as const;
export const QUEUE = "jobs";

export const fastRetry: ServiceBusClientOptions = {
  retryOptions: { maxRetries: 1, retryDelayInMs: 20, maxRetryDelayInMs: 100, timeoutInMs: 5_000 },
};

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

class Capture extends Writable {
  text = "";
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export class DlqFixture {
  private readonly clients: ServiceBusClient[] = [];

  private constructor(
    readonly emulator: Emulator,
    readonly dir: string,
  ) {}

  static async start(options: { clock?: Clock } = {}): Promise<DlqFixture> {
    const config = toEmulatorConfig(topology);
    // The topology has no queues; the dlq commands take queues too, so add one.
    (config.UserConfig.Namespaces[0].Queues as unknown[]).push({
      Name: QUEUE,
      Properties: {
        MaxDeliveryCount: 1,
        LockDuration: "PT30S",
        RequiresDuplicateDetection: true,
        DuplicateDetectionHistoryTimeWindow: "PT10M",
      },
    });
    const emulator = await startEmulator({
      port: 0,
      config,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    return new DlqFixture(emulator, await mkdtemp(join(tmpdir(), "sbw-dlq-")));
  }

  get env(): Record<string, string> {
    return {
      SERVICEBUS_CONNECTION_STRING: this.emulator.connectionString,
      SBW_SERVICEBUS_MAX_RETRIES: "1",
      SBW_SERVICEBUS_TIMEOUT_MS: "5000",
      SBW_SERVICEBUS_RETRY_DELAY_MS: "20",
    };
  }

  client(): ServiceBusClient {
    const client = new ServiceBusClient(this.emulator.connectionString, fastRetry);
    this.clients.push(client);
    return client;
  }

  /** Runs `sbworker <args>` in-process. */
  async cli(
    args: readonly string[],
    options: {
      signal?: AbortSignal;
      env?: Record<string, string>;
      tty?: boolean;
      stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
    } = {},
  ): Promise<CliRun> {
    const stdout = new Capture(options.tty ?? false);
    const stderr = new Capture(options.tty ?? false);
    const code = await runCli(args, {
      signal: options.signal ?? new AbortController().signal,
      stdout,
      stderr,
      env: { ...this.env, ...options.env },
      cwd: this.dir,
      ...(options.stdin ? { stdin: options.stdin } : {}),
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  dlq(...args: string[]): Promise<CliRun> {
    return this.cli(["dlq", ...args]);
  }

  /** Counts of `jobs` or `shop/billing`. */
  counts(entity: string): EntitySnapshot {
    const name = entity.includes("/") ? entity.replace("/", "/Subscriptions/") : entity;
    const found = this.emulator.snapshot().entities.find((e) => e.name.toLowerCase() === name.toLowerCase());
    assert.ok(found, `no entity ${name}`);
    return found;
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
    await this.emulator.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function receiverFor(client: ServiceBusClient, entity: string, deadLetter = false): ServiceBusReceiver {
  const [a, b] = entity.split("/");
  const options = {
    ...(deadLetter ? { subQueueType: "deadLetter" as const } : {}),
    skipParsingBodyAsJson: true,
    skipConvertingDate: true,
  };
  return b === undefined ? client.createReceiver(a!, options) : client.createReceiver(a!, b, options);
}

/** Receives until `count` messages arrived or 5 s passed; fails otherwise. */
export async function receiveAll(
  receiver: ServiceBusReceiver,
  count: number,
): Promise<ServiceBusReceivedMessage[]> {
  const out: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + 5_000;
  while (out.length < count && Date.now() < deadline) {
    out.push(
      ...(await receiver.receiveMessages(count - out.length, { maxWaitTimeInMs: deadline - Date.now() })),
    );
  }
  assert.equal(out.length, count, `expected ${count} messages, got ${out.length}`);
  return out;
}

/**
 * Puts `messages` into the dead-letter queue of `entity` with the given reason: sends them
 * (to the queue, or to the topic addressed to that one subscription), receives and dead-letters.
 */
export async function makeDeadLetters(
  fixture: DlqFixture,
  entity: string,
  messages: readonly ServiceBusMessage[],
  reason = "HandlerFailed",
  description = "boom",
): Promise<void> {
  const client = fixture.client();
  const [topicOrQueue, subscription] = entity.split("/");
  const sender = client.createSender(topicOrQueue!);
  await sender.sendMessages(
    messages.map((m) =>
      subscription === undefined
        ? m
        : { ...m, applicationProperties: { ...m.applicationProperties, "sbw-replay-to": subscription } },
    ),
  );
  await sender.close();
  const receiver = receiverFor(client, entity);
  const received = await receiveAll(receiver, messages.length);
  for (const m of received)
    await receiver.deadLetterMessage(m, {
      deadLetterReason: reason,
      deadLetterErrorDescription: description,
    });
  await receiver.close();
}

/** Receives `count` active messages of `entity` and dead-letters them (a handler failing again). */
export async function deadLetterActive(
  fixture: DlqFixture,
  entity: string,
  count: number,
  reason = "HandlerFailed",
): Promise<ServiceBusReceivedMessage[]> {
  const receiver = receiverFor(fixture.client(), entity);
  const received = await receiveAll(receiver, count);
  for (const m of received)
    await receiver.deadLetterMessage(m, { deadLetterReason: reason, deadLetterErrorDescription: "again" });
  await receiver.close();
  return received;
}

/** Everything currently in `entity` (or its DLQ), received and completed. */
export async function drain(
  fixture: DlqFixture,
  entity: string,
  deadLetter = false,
  expected?: number,
): Promise<ServiceBusReceivedMessage[]> {
  const client = fixture.client();
  const receiver = receiverFor(client, entity, deadLetter);
  const out: ServiceBusReceivedMessage[] = [];
  if (expected !== undefined) out.push(...(await receiveAll(receiver, expected)));
  for (;;) {
    const batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: expected === undefined ? 300 : 100 });
    if (batch.length === 0) break;
    out.push(...batch);
  }
  for (const m of out) await receiver.completeMessage(m);
  await receiver.close();
  return out;
}

/** Peeks an entity's DLQ (nothing locked). */
export async function peekDlq(fixture: DlqFixture, entity: string): Promise<ServiceBusReceivedMessage[]> {
  const client = fixture.client();
  const receiver = receiverFor(client, entity, true);
  const out: ServiceBusReceivedMessage[] = [];
  for (;;) {
    const page = await receiver.peekMessages(100);
    if (page.length === 0) break;
    out.push(...page);
  }
  await receiver.close();
  return out;
}

export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

/** How many dead letters a journal records as completed (0 before the file exists). */
export async function completedLines(path: string): Promise<number> {
  try {
    return ((await readFile(path, "utf8")).match(/"status":"completed"/g) ?? []).length;
  } catch {
    return 0; // not created yet
  }
}

/**
 * `dlq replay <entity> --resume <journal>` after an interrupted run: exits 0, empties the DLQ, and
 * every one of the `count` dead letters arrives in the entity exactly once. Returns the replays.
 */
export async function resumeReplaysEachOnce(
  f: DlqFixture,
  entity: string,
  journal: string,
  count: number,
): Promise<ServiceBusReceivedMessage[]> {
  const resumed = await f.dlq("replay", entity, "--yes", "--resume", journal);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal(f.counts(entity).deadLettered, 0, "the DLQ is empty");
  const replayed = await drain(f, entity, false, count);
  const originals = replayed.map((m) => String(m.applicationProperties!["sbw-original-message-id"]));
  assert.equal(new Set(originals).size, count, "each message exactly once");
  assert.equal(replayed.length, count, "no duplicates");
  return replayed;
}
