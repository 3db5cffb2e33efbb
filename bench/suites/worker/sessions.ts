/**
 * Sessions: sbworker's session processor against a hand-written `acceptNextSession` loop, both
 * checked for per-session order (../worker.ts).
 */
import { isServiceBusError, ServiceBusClient } from "@azure/service-bus";
import type { ServiceBusMessage, ServiceBusReceivedMessage } from "@azure/service-bus";

import type { EmulatorProcess } from "../../lib/emulatorChild.js";
import { Completion, errorText, fillEntity } from "../../lib/measure.js";
import type { Rate, Side } from "../../lib/measure.js";
import { collectGarbage } from "../../lib/stats.js";
import {
  ACCEPT_TIMEOUT_MS,
  drainWithWorker,
  expectDrained,
  MESSAGES_PER_SESSION,
  SESSION_SLOTS,
  sessionTopic,
} from "./shared.js";
import type { SessionTopology, WorkerSettings } from "./shared.js";

/** Tracks per-session order: every message once, in sequence. */
class OrderCheck {
  private readonly next = new Map<string, number>();
  readonly violations: string[] = [];

  see(key: string, seq: number): void {
    const expected = this.next.get(key) ?? 0;
    if (seq !== expected && this.violations.length < 5)
      this.violations.push(`${key}: got ${seq}, expected ${expected}`);
    this.next.set(key, seq + 1);
  }
}

function step(sessions: number): (i: number) => ServiceBusMessage {
  return (i) => {
    const key = `s${Math.floor(i / MESSAGES_PER_SESSION)}`;
    const seq = i % MESSAGES_PER_SESSION;
    if (Math.floor(i / MESSAGES_PER_SESSION) >= sessions) throw new Error("beyond the last session");
    return { subject: "Step", body: { key, seq }, sessionId: key, messageId: `${key}:${seq}` };
  };
}

function stepOf(message: ServiceBusReceivedMessage): { key: string; seq: number } {
  const body = message.body as { key?: unknown; seq?: unknown } | undefined;
  if (typeof body?.key !== "string" || typeof body.seq !== "number")
    throw new Error(`unexpected body ${JSON.stringify(message.body)}`);
  return { key: body.key, seq: body.seq };
}

function isNoSession(error: unknown): boolean {
  return (
    isServiceBusError(error) && (error.code === "ServiceTimeout" || error.code === "SessionCannotBeLocked")
  );
}

/** How the hand-written session loop receives from a session it holds. */
export interface SdkSessionLoop {
  /** `drain`: receive batches until one comes back empty; `once`: one batch, then close. */
  readonly mode: "drain" | "once";
  readonly batch: number;
  /** `maxWaitTimeInMs` of each receive. */
  readonly waitMs: number;
}

/**
 * The hand-written SDK session loop: `SESSION_SLOTS` slots, each: accept the next session,
 * receive batches of up to `batch` (waiting at most `waitMs`) until one comes back empty (or just
 * one batch with `once`), complete each message, close the receiver, next.
 */
async function sdkSessions(
  connectionString: string,
  topic: string,
  completion: Completion,
  check: OrderCheck,
  loop: SdkSessionLoop,
): Promise<void> {
  const client = new ServiceBusClient(connectionString, { retryOptions: { timeoutInMs: ACCEPT_TIMEOUT_MS } });
  let stop = false;
  const slot = async (): Promise<void> => {
    while (!stop) {
      let receiver;
      try {
        receiver = await client.acceptNextSession(topic, "ordered");
      } catch (error) {
        if (isNoSession(error)) continue;
        throw error;
      }
      try {
        for (;;) {
          const batch = await receiver.receiveMessages(loop.batch, { maxWaitTimeInMs: loop.waitMs });
          if (batch.length === 0) break;
          for (const message of batch) {
            const s = stepOf(message);
            check.see(s.key, s.seq);
            await receiver.completeMessage(message);
            completion.tick();
          }
          if (loop.mode === "once") break;
        }
      } finally {
        await receiver.close();
      }
    }
  };
  completion.begin();
  const slots = Array.from({ length: SESSION_SLOTS }, () =>
    slot().catch((error: unknown) => completion.fail(new Error(`session slot: ${errorText(error)}`))),
  );
  try {
    await completion.done;
  } finally {
    stop = true;
    await Promise.all(slots);
    await client.close();
  }
}

export async function sessionsOnce(
  em: EmulatorProcess,
  topic: string,
  side: Side,
  sessions: number,
  settings: WorkerSettings & { readonly sdkLoop: SdkSessionLoop },
): Promise<Rate> {
  const total = sessions * MESSAGES_PER_SESSION;
  await fillEntity(em.connectionString, topic, total, step(sessions));
  collectGarbage();
  const completion = new Completion(total, 0);
  const check = new OrderCheck();
  if (side === "sbworker") {
    const topology: SessionTopology = sessionTopic(topic);
    completion.begin();
    await drainWithWorker(
      em.connectionString,
      topology,
      {
        bench: {
          ordered: {
            Step: (payload) => {
              check.see(payload.key, payload.seq);
              return Promise.resolve();
            },
          },
        },
      },
      completion,
      settings,
    );
  } else {
    await sdkSessions(em.connectionString, topic, completion, check, settings.sdkLoop);
  }
  if (check.violations.length > 0) throw new Error(`order broken: ${check.violations.join("; ")}`);
  await expectDrained(em, `${topic}/ordered`);
  return completion.rate();
}
