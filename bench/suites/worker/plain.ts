/** Plain subscription, no-op handler: sbworker against the SDK's `subscribe` (../worker.ts). */
import { ServiceBusClient } from "@azure/service-bus";

import type { EmulatorProcess } from "../../lib/emulatorChild.js";
import { Completion, errorText, fillEntity } from "../../lib/measure.js";
import type { Rate, Side } from "../../lib/measure.js";
import { collectGarbage } from "../../lib/stats.js";
import { drainWithWorker, expectDrained, noop, plainTopic } from "./shared.js";
import type { PlainTopology, WorkerSettings } from "./shared.js";

export async function plainOnce(
  em: EmulatorProcess,
  topic: string,
  side: Side,
  concurrency: number,
  total: number,
  settings: WorkerSettings,
): Promise<Rate> {
  await fillEntity(em.connectionString, topic, total, noop);
  collectGarbage();
  const completion = new Completion(total, Math.max(1, Math.floor(total / 10)));
  if (side === "sbworker") {
    const topology: PlainTopology = plainTopic(topic, concurrency);
    await drainWithWorker(
      em.connectionString,
      topology,
      { bench: { work: { Noop: () => Promise.resolve() } } },
      completion,
      settings,
    );
  } else {
    const client = new ServiceBusClient(em.connectionString);
    const receiver = client.createReceiver(topic, "work", { receiveMode: "peekLock" });
    const subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          await receiver.completeMessage(message);
          completion.tick();
        },
        processError: async (args) => {
          completion.fail(new Error(`processError (${args.errorSource}): ${errorText(args.error)}`));
          return Promise.resolve();
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: concurrency },
    );
    try {
      await completion.done;
    } finally {
      await subscription.close();
      await receiver.close();
      await client.close();
    }
  }
  await expectDrained(em, `${topic}/work`);
  return completion.rate();
}
