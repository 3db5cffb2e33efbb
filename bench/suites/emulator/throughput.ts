/** Throughput: each SDK workload on the emulator against the minimal server, interleaved (../emulator.ts). */
import { throughput } from "../../lib/result.js";
import type { Result } from "../../lib/result.js";
import { collectGarbage, median } from "../../lib/stats.js";
import { SERVER_KINDS } from "./servers.js";
import type { ServerKind } from "./servers.js";
import { batchSendOnce, launch, subscribeOnce, trapUncaught } from "./workloads.js";
import type { BenchServer, Rate } from "./workloads.js";
import { message } from "./shared.js";
import type { Log, Mode, Sizes } from "./shared.js";

// ---- comparisons ----------------------------------------------------------------------------

interface Runs {
  samples: Record<ServerKind, number[]>;
  cpuSamples: Record<ServerKind, number[]>;
  errors: Record<ServerKind, string[]>;
}

/**
 * Throughput, emulator vs minimal: one discarded warm-up run each, then `reps` interleaved
 * repetitions (A B B A A B), each on a fresh server. After a failure the server's remaining
 * repetitions are skipped (each failure can cost the stall timeout).
 */
async function compare(
  name: string,
  mode: Mode,
  reps: number,
  run: (server: BenchServer, warmup: boolean) => Promise<Rate>,
  log: Log,
): Promise<Result> {
  const runs: Runs = {
    samples: { emulator: [], minimal: [] },
    cpuSamples: { emulator: [], minimal: [] },
    errors: { emulator: [], minimal: [] },
  };
  const once = async (kind: ServerKind, warmup: boolean): Promise<void> => {
    if (runs.errors[kind].length > 0) return;
    collectGarbage();
    const server = await launch(kind, mode);
    try {
      const rate = await trapUncaught(() => run(server, warmup));
      const cpuNote = mode === "inproc" ? ` (${Math.round(rate.cpu)} per CPU-second)` : "";
      log(`${warmup ? "warm-up " : ""}${kind}: ${Math.round(rate.wall)} msg/s${cpuNote}`);
      if (!warmup) {
        runs.samples[kind].push(rate.wall);
        runs.cpuSamples[kind].push(rate.cpu);
      }
    } catch (error) {
      log(`${warmup ? "warm-up " : ""}${kind}: FAILED: ${message(error)}`);
      runs.errors[kind].push(`${warmup ? "warm-up: " : ""}${message(error)}`);
    } finally {
      await server.close().catch(() => undefined);
    }
  };
  log(name);
  for (const kind of SERVER_KINDS) await once(kind, true);
  for (let rep = 0; rep < reps; rep += 1) {
    for (const kind of rep % 2 === 0 ? SERVER_KINDS : [...SERVER_KINDS].reverse()) await once(kind, false);
  }
  const failures = SERVER_KINDS.filter((k) => runs.errors[k].length > 0).map(
    (k) => `${k}: ${runs.errors[k].join("; ")}`,
  );
  const cpuRatio =
    mode === "inproc" && runs.cpuSamples.emulator.length > 0 && runs.cpuSamples.minimal.length > 0
      ? median(runs.cpuSamples.emulator) / median(runs.cpuSamples.minimal)
      : undefined;
  const result = throughput({
    name,
    unit: "msg/s",
    value: runs.samples.emulator.length > 0 ? median(runs.samples.emulator) : 0,
    baseline: runs.samples.minimal.length > 0 ? median(runs.samples.minimal) : 0,
    details: {
      samples: runs.samples,
      errors: runs.errors,
      statistic: `median of ${reps}`,
      // Messages per CPU-second of the whole process (client + server): less sensitive to other
      // load on the machine than the wall clock; same orientation as the ratio.
      ...(cpuRatio !== undefined ? { cpuSamples: runs.cpuSamples, cpuRatio } : {}),
    },
    ...(failures.length > 0 ? { failure: failures.join(" | ") } : {}),
  });
  return cpuRatio === undefined
    ? result
    : { ...result, note: `messages per CPU-second of the process: ratio ${cpuRatio.toFixed(3)}` };
}

export async function throughputs(mode: Mode, s: Sizes, log: Log): Promise<Result[]> {
  const where = mode === "inproc" ? "server in the SDK's process" : "server in a child process";
  const out: Result[] = [];
  out.push(
    await compare(
      `SDK batch send, 100 x 1 KiB per batch, 1 batch in flight (messages/s; ${where})`,
      mode,
      s.reps,
      (server) => batchSendOnce(server, s),
      log,
    ),
  );
  for (const mcc of [1, 100]) {
    const timed = s.receiveMessages[mcc]!;
    out.push(
      await compare(
        `SDK subscribe peek-lock + complete, maxConcurrentCalls ${mcc}, queue pre-filled with ${(s.receiveSkip + timed + mcc).toLocaleString("en-US")} (messages/s; ${where})`,
        mode,
        s.reps,
        (server, warmup) =>
          subscribeOnce(server, mcc, warmup ? Math.min(timed, 1_000) : timed, s.receiveSkip),
        log,
      ),
    );
  }
  return out;
}
