/** Topic `reports`: long jobs that build a CSV report in chunks. */
import { z } from "zod";
import { defineTopic } from "./dsl.js";

export const ReportRequested = z.object({
  reportId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '-' and '_' only (it names a file)"),
  kind: z.enum(["sales"]),
  rows: z.int().positive().max(10_000_000),
  chunkSize: z.int().positive().max(100_000).default(1_000),
  /** Who to tell when the report is ready (optional). */
  notify: z.email().optional(),
});

export const reports = defineTopic({
  name: "reports",
  duplicateDetection: { windowMs: 5 * 60_000 },
  messages: { ReportRequested },
  messageId: (message) => `report:${message.payload.reportId}`,
  subscriptions: {
    generate: {
      subjects: ["ReportRequested"],
      maxDeliveryCount: 5,
      lockDurationMs: 5 * 60_000,
      // A long job: it heartbeats per chunk (stalled after 30 s of silence) and reports progress.
      policy: {
        concurrency: 2,
        maxAttempts: 3,
        drainTimeoutMs: 25_000,
        stallTimeoutMs: 30_000,
        jobEvents: true,
      },
    },
  },
});
