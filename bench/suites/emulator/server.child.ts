/**
 * A benchmark server in a process of its own: `node --import tsx server.child.ts <kind>`.
 * Reports over IPC how long the first start took (cold: nothing warmed up yet), then answers
 * requests for memory usage (after forced GC, when started with --expose-gc), queue length and
 * warm start times. Exits when the parent disconnects.
 */
import { performance } from "node:perf_hooks";

import type { ServerKind } from "./servers.js";

export type ChildRequest =
  | { readonly type: "memory" }
  | { readonly type: "queued" }
  | { readonly type: "warm-start"; readonly count: number };

export type ChildMessage =
  | {
      readonly type: "ready";
      readonly connectionString: string;
      /** Importing the server's modules (tsx-transpiled), ms. */
      readonly importMs: number;
      /** The first start in this process until listening, ms. */
      readonly startMs: number;
    }
  | { readonly type: "memory"; readonly usage: NodeJS.MemoryUsage; readonly gc: boolean }
  | { readonly type: "queued"; readonly queued: number | undefined }
  | { readonly type: "warm-start"; readonly ms: readonly number[] }
  | { readonly type: "error"; readonly message: string };

const kind = process.argv[2] as ServerKind;
if (kind !== "emulator" && kind !== "minimal") throw new Error(`unknown server kind '${String(kind)}'`);

function send(m: ChildMessage): void {
  process.send!(m);
}

const t0 = performance.now();
// Import exactly what a start needs before timing it, so startMs is the start itself
// (servers.ts imports the minimal server statically; the emulator is loaded explicitly).
const { loadEmulator, startServer } = await import("./servers.js");
if (kind === "emulator") await loadEmulator();
const importMs = performance.now() - t0;
const t1 = performance.now();
const server = await startServer(kind);
const startMs = performance.now() - t1;
send({ type: "ready", connectionString: server.connectionString, importMs, startMs });

async function handle(request: ChildRequest): Promise<ChildMessage> {
  switch (request.type) {
    case "memory": {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 6 && gc; i += 1) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return { type: "memory", usage: process.memoryUsage(), gc: gc !== undefined };
    }
    case "queued":
      return { type: "queued", queued: server.queued() };
    case "warm-start": {
      const ms: number[] = [];
      for (let i = 0; i < request.count; i += 1) {
        const t = performance.now();
        const s = await startServer(kind);
        ms.push(performance.now() - t);
        await s.close();
      }
      return { type: "warm-start", ms };
    }
  }
}

process.on("message", (m) => {
  handle(m as ChildRequest).then(send, (error: unknown) =>
    send({ type: "error", message: error instanceof Error ? error.message : String(error) }),
  );
});
process.on("disconnect", () => {
  void server.close().finally(() => process.exit(0));
});
