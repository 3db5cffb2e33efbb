/**
 * `reports/generate`: a long job that writes a CSV report chunk by chunk into `<dir>/<id>.csv`.
 *
 * Rows are a pure function of (report id, row number), so any run, or a run resumed after a crash,
 * produces the same file. After each chunk the partial file is synced and the handler saves a
 * checkpoint `{ nextChunk, bytes }`: a redelivery (another worker after a crash, a stall, a drain)
 * truncates the partial file to `bytes` and resumes at `nextChunk`; without a usable partial file
 * (another disk) it starts over. It heartbeats with its progress (published as `JobProgress`) and
 * checks `ctx.signal` between chunks: a drain past its timeout, a stall, a lost lock or a
 * `CancelJob` stops it. The file appears under its final name only when complete.
 */
import { createHash } from "node:crypto";
import { mkdir, open, rename, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { SubscriptionHandlers } from "../registry.js";
import type { Topology } from "../../topics/index.js";
import type { ReportRequested } from "../../topics/reports.js";

export interface ReportDeps {
  /** Where finished reports go. */
  readonly dir: string;
  /** Pause between chunks (throttling the data source; tests use it to make a job long). */
  readonly chunkDelayMs?: number;
}

const HEADER = "row,date,sku,quantity,amount\n";
const SKUS = ["A-100", "B-200", "C-300", "D-400", "E-500"];

/** Row `n` (1-based) of report `id`: deterministic, so reruns write identical bytes. */
export function reportRow(id: string, n: number): string {
  const h = createHash("sha256").update(`${id}:${n}`).digest();
  const day = 1 + (h.readUInt8(0) % 28);
  const month = 1 + (h.readUInt8(1) % 12);
  const quantity = 1 + (h.readUInt8(2) % 9);
  const cents = h.readUInt16BE(3) % 10_000;
  const sku = SKUS[h.readUInt8(5) % SKUS.length] ?? "A-100";
  const date = `2025-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  return `${n},${date},${sku},${quantity},${(quantity * cents) / 100}\n`;
}

export function reportChunk(request: z.output<typeof ReportRequested>, chunk: number): string {
  const first = chunk * request.chunkSize + 1;
  const last = Math.min(request.rows, first + request.chunkSize - 1);
  let text = "";
  for (let n = first; n <= last; n += 1) text += reportRow(request.reportId, n);
  return text;
}

/** What the handler checkpoints after each chunk. */
const Checkpoint = z.object({ nextChunk: z.int().nonnegative(), bytes: z.int().nonnegative() });
type Checkpoint = z.output<typeof Checkpoint>;

/** The partial file, resumed at the checkpoint when it is there and long enough, else new. */
async function openPartial(
  path: string,
  resumeFrom: unknown,
): Promise<{ file: FileHandle; first: number; bytes: number }> {
  const checkpoint = Checkpoint.safeParse(resumeFrom);
  if (checkpoint.success && checkpoint.data.nextChunk > 0) {
    const size = await stat(path).then(
      (s) => s.size,
      () => -1, // no partial file here (another disk): start over
    );
    if (size >= checkpoint.data.bytes) {
      const file = await open(path, "r+");
      await file.truncate(checkpoint.data.bytes); // drop what was written after the checkpoint
      return { file, first: checkpoint.data.nextChunk, bytes: checkpoint.data.bytes };
    }
  }
  const file = await open(path, "w");
  await file.write(HEADER);
  return { file, first: 0, bytes: Buffer.byteLength(HEADER) };
}

export function reportHandlers(deps: ReportDeps): SubscriptionHandlers<Topology, "reports", "generate"> {
  return {
    ReportRequested: async (request, ctx) => {
      await mkdir(deps.dir, { recursive: true });
      const target = join(deps.dir, `${request.reportId}.csv`);
      const partial = `${target}.part`;
      const chunks = Math.ceil(request.rows / request.chunkSize);
      const { file, first, bytes: start } = await openPartial(partial, ctx.resumeFrom);
      if (first > 0) ctx.log.info({ reportId: request.reportId, fromChunk: first, chunks }, "report resumed");
      let bytes = start;
      try {
        for (let chunk = first; chunk < chunks; chunk += 1) {
          ctx.signal.throwIfAborted();
          const text = reportChunk(request, chunk);
          await file.write(text, bytes, "utf8"); // at the checkpointed length, also after a resume
          bytes += Buffer.byteLength(text);
          await file.sync(); // durable before the checkpoint says so
          await ctx.checkpoint({ nextChunk: chunk + 1, bytes } satisfies Checkpoint);
          ctx.heartbeat({ chunk: chunk + 1, chunks });
          ctx.log.info({ reportId: request.reportId, chunk: chunk + 1, chunks }, "report chunk written");
          if (deps.chunkDelayMs && chunk + 1 < chunks)
            await sleep(deps.chunkDelayMs, undefined, { signal: ctx.signal });
        }
      } finally {
        await file.close();
      }
      await rename(partial, target);
      ctx.log.info({ reportId: request.reportId, rows: request.rows, path: target }, "report ready");
      if (request.notify) {
        await ctx.publish("notifications", "EmailRequested", {
          notificationId: `report:${request.reportId}`,
          to: request.notify,
          template: "report-ready",
          data: { reportId: request.reportId, rows: request.rows, location: target },
        });
      }
    },
  };
}
