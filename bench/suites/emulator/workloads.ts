/** The servers as the suite launches them, and the SDK workloads it times on them (../emulator.ts). */
import { ServiceBusClient } from "@azure/service-bus";
import type { ServiceBusSender } from "@azure/service-bus";

import { Child } from "../../lib/child.js";
import { collectGarbage, now } from "../../lib/stats.js";
import type { ChildMessage } from "./server.child.js";
import { BENCH_QUEUE, startServer } from "./servers.js";
import type { RunningServer, ServerKind } from "./servers.js";
import { BATCH, CHILD_SCRIPT, CLIENT_OPTIONS, MESSAGE, STALL_MS, message } from "./shared.js";
import type { Mode, Sizes } from "./shared.js";

// ---- servers -------------------------------------------------------------------------------

export interface BenchServer extends RunningServer {
  /** Messages held in the bench queue, asked of the server wherever it runs. */
  held(): Promise<number | undefined>;
}

/** A server for one repetition: in this process, or in a child process. */
export async function launch(kind: ServerKind, mode: Mode): Promise<BenchServer> {
  if (mode === "inproc") {
    const s = await startServer(kind);
    return { ...s, held: () => Promise.resolve(s.queued()) };
  }
  const child = Child.start<ChildMessage>(CHILD_SCRIPT, { args: [kind] });
  const ready = await child.next();
  if (ready.type !== "ready") throw new Error(`server child: ${JSON.stringify(ready)}`);
  return {
    kind,
    connectionString: ready.connectionString,
    queued: () => undefined,
    held: async () => {
      const m = await child.request({ type: "queued" });
      return m.type === "queued" ? m.queued : undefined;
    },
    close: () => child.stop(),
  };
}

/**
 * Runs `fn`, failing it when an exception escapes to the process (an in-process server that
 * throws from a timer would otherwise take the benchmark down).
 */
export async function trapUncaught<T>(fn: () => Promise<T>): Promise<T> {
  let listener: ((e: unknown) => void) | undefined;
  const trapped = new Promise<never>((_, reject) => {
    listener = (e: unknown) => reject(new Error(`uncaught exception: ${message(e)}`));
    process.on("uncaughtException", listener);
  });
  try {
    return await Promise.race([fn(), trapped]);
  } finally {
    process.off("uncaughtException", listener!);
  }
}

// ---- SDK workloads ------------------------------------------------------------------------------

/** Sends `count` messages as batches of 100, one batch in flight. */
export async function sendBatches(sender: ServiceBusSender, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += BATCH) {
    const batch = await sender.createMessageBatch();
    for (let i = 0; i < BATCH; i += 1) {
      if (!batch.tryAddMessage(MESSAGE)) throw new Error("a 100 x 1 KiB batch did not fit");
    }
    await sender.sendMessages(batch);
  }
}

/** Sends `count` messages as batches of 100 with `parallel` batches in flight (pre-fill only). */
export async function fill(sender: ServiceBusSender, count: number, parallel = 4): Promise<void> {
  const per = Math.ceil(count / BATCH / parallel) * BATCH;
  const jobs: Promise<void>[] = [];
  for (let start = 0; start < count; start += per)
    jobs.push(sendBatches(sender, Math.min(per, count - start)));
  await Promise.all(jobs);
}

export async function withClient<T>(
  connectionString: string,
  fn: (client: ServiceBusClient) => Promise<T>,
): Promise<T> {
  const client = new ServiceBusClient(connectionString, CLIENT_OPTIONS);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/**
 * A repetition's outcome: messages/s by the wall clock, and messages per CPU-second of this
 * process (client and, in-process, server together), which other load on the machine skews less.
 */
export interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

export function cpuSeconds(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
}

/** One batch-send repetition. */
export async function batchSendOnce(server: BenchServer, s: Sizes): Promise<Rate> {
  const rate = await withClient(server.connectionString, async (client) => {
    const sender = client.createSender(BENCH_QUEUE);
    await sendBatches(sender, s.sendWarmup);
    const t0 = now();
    const c0 = process.cpuUsage();
    await sendBatches(sender, s.sendMessages);
    return { wall: (s.sendMessages / (now() - t0)) * 1000, cpu: s.sendMessages / cpuSeconds(c0) };
  });
  const held = await server.held();
  if (held !== undefined && held !== s.sendWarmup + s.sendMessages) {
    throw new Error(`the emulator holds ${held} messages, expected ${s.sendWarmup + s.sendMessages}`);
  }
  return rate;
}

/**
 * One subscribe repetition: messages received and completed, timed from the `skip`-th handler
 * call to the `skip + timed`-th (so link attach and the first deliveries are not timed).
 */
export async function subscribeOnce(
  server: BenchServer,
  maxConcurrentCalls: number,
  timed: number,
  skip: number,
): Promise<Rate> {
  return withClient(server.connectionString, async (client) => {
    if (server.kind === "emulator") {
      const sender = client.createSender(BENCH_QUEUE);
      await fill(sender, skip + timed + maxConcurrentCalls);
      await sender.close();
    }
    collectGarbage();
    const receiver = client.createReceiver(BENCH_QUEUE, { receiveMode: "peekLock" });
    let handled = 0;
    let t0 = 0;
    let t1 = 0;
    let c0 = process.cpuUsage();
    let cpu = 0;
    let settled = false;
    let subscription: { close(): Promise<void> } | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        if (error) reject(error);
        else resolve();
      };
      let lastHandled = -1;
      let lastProgress = now();
      watchdog = setInterval(() => {
        if (handled !== lastHandled) {
          lastHandled = handled;
          lastProgress = now();
        } else if (now() - lastProgress > STALL_MS) {
          finish(
            new Error(
              `stalled after ${handled} of ${skip + timed} messages (no progress for ${STALL_MS / 1000} s)`,
            ),
          );
        }
      }, 500);
      subscription = receiver.subscribe(
        {
          processMessage: async () => {
            handled += 1;
            if (handled === skip) {
              t0 = now();
              c0 = process.cpuUsage();
            }
            if (handled === skip + timed) {
              t1 = now();
              cpu = cpuSeconds(c0);
              finish();
            }
            return Promise.resolve();
          },
          processError: async (args) => {
            finish(
              new Error(
                `processError (${args.errorSource}) after ${handled} messages: ${message(args.error)}`,
              ),
            );
            return Promise.resolve();
          },
        },
        { maxConcurrentCalls, autoCompleteMessages: true },
      );
    });
    try {
      await done;
    } finally {
      await subscription?.close();
      await receiver.close();
    }
    return { wall: (timed / (t1 - t0)) * 1000, cpu: timed / cpu };
  });
}
