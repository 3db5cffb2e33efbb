/**
 * Emulator suite: the embedded emulator against a minimal rhea server that does no broker work
 * (bench/baseline/minimal-server.ts), both driven by the official `@azure/service-bus` SDK.
 *
 * - SDK batch send, 100 x 1 KiB per batch, one batch in flight (messages/s);
 * - SDK `subscribe` in peek-lock with autoCompleteMessages at maxConcurrentCalls 1 and 100
 *   (messages/s received and completed; the emulator queue is pre-filled first);
 * - start to listening: the first `startEmulator({ port: 0 })` in a fresh process, against the
 *   first start of the minimal server in a fresh process (ms; target < 100 ms);
 * - memory per queued 1 KiB message at 200,000 messages, emulator in a child process with
 *   --expose-gc, SDK client in this one (bytes; budget 2048).
 *
 * Fairness: by default both servers run in the benchmark process next to the SDK client, as in
 * the tests (`--mode=child` puts both in child processes instead, `--mode=both` does both). Each
 * throughput figure is the median of 5 repetitions (3 with --quick), interleaved A B B A A B, each on a fresh
 * server and client, after one discarded warm-up run of each server.
 *
 * The emulator runs compiled (`tsc` into .tmp/bench-dist, as `sbworker emulator` and `npm start`
 * run dist/); `--emulator-from=source` loads it through tsx, `--emulator=path` any build.
 *
 * A server that breaks (an error, an uncaught exception, or no progress for 15 s) fails the
 * measurement (value 0 when no run succeeded) and the suite carries on.
 *
 * The parts are in ./emulator/: throughput.ts, startAndMemory.ts, workloads.ts and shared.ts.
 */
import { pathToFileURL } from "node:url";
import path from "node:path";

import { compiledModuleUrl, workerFromOption } from "../lib/compiled.js";
import type { Result } from "../lib/result.js";
import type { Suite, SuiteContext } from "../lib/runner.js";
import { choiceOption } from "../lib/options.js";
import { emulatorModuleUrl } from "./emulator/servers.js";
import { FULL, QUICK } from "./emulator/shared.js";
import type { Mode } from "./emulator/shared.js";
import { memoryPerMessage, startTimes } from "./emulator/startAndMemory.js";
import { throughputs } from "./emulator/throughput.js";

const suite: Suite = {
  name: "emulator",
  description: "embedded emulator vs a minimal no-broker rhea server, through @azure/service-bus",
  async run(ctx: SuiteContext): Promise<Result[]> {
    const s = ctx.quick ? QUICK : FULL;
    const modeOption = choiceOption(ctx.options, "mode", ["inproc", "child", "both"] as const, "inproc");
    const modes: Mode[] = modeOption === "both" ? ["inproc", "child"] : [modeOption];
    const override = ctx.options.get("emulator");
    const from = workerFromOption(ctx.options, "emulator-from");
    // Children inherit the environment, so every server loads the same module. By default the
    // compiled emulator, as `sbworker emulator` and `npm start` run it (dist/); tsx would wrap
    // every function expression of the emulator's per-message path in a `__name` helper.
    if (override !== undefined)
      process.env.BENCH_EMULATOR_MODULE = pathToFileURL(path.resolve(override)).href;
    else if (from === "compiled")
      process.env.BENCH_EMULATOR_MODULE = await compiledModuleUrl("emulator/index", ctx.log);
    ctx.log(`emulator module: ${emulatorModuleUrl()}`);
    const results: Result[] = [];
    for (const mode of modes) results.push(...(await throughputs(mode, s, ctx.log)));
    results.push(await startTimes(s, ctx.log));
    results.push(await memoryPerMessage(s, ctx.log));
    return results;
  },
};

export default suite;
