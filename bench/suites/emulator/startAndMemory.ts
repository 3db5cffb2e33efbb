/** Start to listening, and memory per queued message (../emulator.ts). */

import { Child } from "../../lib/child.js";
import { budget, cost } from "../../lib/result.js";
import type { Result } from "../../lib/result.js";
import { median, now } from "../../lib/stats.js";
import type { ChildMessage } from "./server.child.js";
import { BENCH_QUEUE, SERVER_KINDS } from "./servers.js";
import type { ServerKind } from "./servers.js";
import { CHILD_SCRIPT, message } from "./shared.js";
import type { Log, Sizes } from "./shared.js";
import { fill, withClient } from "./workloads.js";

// ---- start time -------------------------------------------------------------------------------

/** Start to listening in fresh processes: the first start of each server, interleaved. */
export async function startTimes(s: Sizes, log: Log): Promise<Result> {
  const cold: Record<ServerKind, number[]> = { emulator: [], minimal: [] };
  const importMs: Record<ServerKind, number[]> = { emulator: [], minimal: [] };
  const warm: Record<ServerKind, number[]> = { emulator: [], minimal: [] };
  for (let i = 0; i < s.startProcesses; i += 1) {
    for (const kind of i % 2 === 0 ? SERVER_KINDS : [...SERVER_KINDS].reverse()) {
      const child = Child.start<ChildMessage>(CHILD_SCRIPT, { args: [kind] });
      try {
        const ready = await child.next();
        if (ready.type !== "ready") throw new Error(`server child: ${JSON.stringify(ready)}`);
        cold[kind].push(ready.startMs);
        importMs[kind].push(ready.importMs);
        const w = await child.request({ type: "warm-start", count: 5 });
        if (w.type === "warm-start") warm[kind].push(median(w.ms));
      } finally {
        await child.stop();
      }
    }
  }
  const value = median(cold.emulator);
  const baseline = median(cold.minimal);
  log(
    `start: emulator ${value.toFixed(1)} ms, minimal ${baseline.toFixed(1)} ms (first start in a fresh process)`,
  );
  return cost({
    name: "start to listening: first startEmulator({port:0}) in a fresh process, modules already imported (ms; baseline = minimal rhea server the same way; ratio = baseline/value; target is absolute)",
    unit: "ms",
    value,
    baseline,
    maxValue: 100,
    details: {
      coldStartMs: cold,
      warmStartMedianMs: warm,
      importMs,
      note: "startMs covers config parsing, topology and listen; importMs (tsx-transpiled module loading) is not included",
    },
  });
}

// ---- memory -----------------------------------------------------------------------------------

/** Memory per queued 1 KiB message: emulator in a child with --expose-gc, SDK client here. */
export async function memoryPerMessage(s: Sizes, log: Log): Promise<Result> {
  const n = s.memoryMessages;
  const name = `memory per queued 1 KiB message at ${n.toLocaleString("en-US")} messages (bytes; (heapUsed+external) delta / n after forced GC; baseline = 2048 B budget; ratio = 2048/value)`;
  const child = Child.start<ChildMessage>(CHILD_SCRIPT, { args: ["emulator"], nodeFlags: ["--expose-gc"] });
  try {
    const ready = await child.next();
    if (ready.type !== "ready") throw new Error(`server child: ${JSON.stringify(ready)}`);
    const memory = async (): Promise<NodeJS.MemoryUsage> => {
      const m = await child.request({ type: "memory" });
      if (m.type !== "memory" || !m.gc) throw new Error(`memory: ${JSON.stringify(m)}`);
      return m.usage;
    };
    const warmup = 2_000;
    let sendSeconds = 0;
    const { before, after, held } = await withClient(ready.connectionString, async (client) => {
      const sender = client.createSender(BENCH_QUEUE);
      await fill(sender, warmup);
      const b = await memory();
      const t0 = now();
      await fill(sender, n);
      sendSeconds = (now() - t0) / 1000;
      const a = await memory();
      const q = await child.request({ type: "queued" });
      return { before: b, after: a, held: q.type === "queued" ? q.queued : undefined };
    });
    if (held !== warmup + n)
      throw new Error(`the emulator holds ${String(held)} messages, expected ${warmup + n}`);
    // `external` already includes `arrayBuffers` (every Buffer), so heapUsed + external is the total.
    const perMessage = (after.heapUsed + after.external - before.heapUsed - before.external) / n;
    const arrayBuffersTwice =
      (after.heapUsed +
        after.external +
        after.arrayBuffers -
        before.heapUsed -
        before.external -
        before.arrayBuffers) /
      n;
    log(
      `memory: ${perMessage.toFixed(0)} B/message over ${n} messages (sent at ${Math.round(n / sendSeconds)} msg/s)`,
    );
    return budget({
      name,
      unit: "bytes",
      value: perMessage,
      budget: 2048,
      details: {
        messages: n,
        heapUsedPerMessage: (after.heapUsed - before.heapUsed) / n,
        externalPerMessage: (after.external - before.external) / n,
        arrayBuffersPerMessage: (after.arrayBuffers - before.arrayBuffers) / n,
        rssPerMessage: (after.rss - before.rss) / n,
        heapUsedPlusExternalPlusArrayBuffersPerMessage: arrayBuffersTwice,
        note: "external includes arrayBuffers; adding arrayBuffers again would count every Buffer twice",
        before,
        after,
        sendMessagesPerSecond: n / sendSeconds,
      },
    });
  } catch (error) {
    log(`memory: FAILED: ${message(error)}`);
    return budget({ name, unit: "bytes", value: 0, budget: 2048, failure: message(error) });
  } finally {
    await child.stop();
  }
}
