/**
 * The reference schedules: what `npm start` runs besides message handlers. Users replace these with
 * their own (the DSL is in ./scheduleDsl.ts; docs/schedules.md explains how ticks work).
 *
 * `hourly-sales-report` publishes `reports/ReportRequested` at the top of every hour; the ordinary
 * `reports/generate` handler builds the report. The report id is derived from the tick, so a
 * redelivered tick rewrites the same file.
 */
import { topology } from "./index.js";
import { defineSchedule, scheduleList } from "./scheduleDsl.js";

/** `2025-03-30T01:00:00.000Z` → `20250330T0100Z` (letters and digits only: it names a file). */
export function compactTime(iso: string): string {
  return `${iso.slice(0, 16).replaceAll("-", "").replace(":", "")}Z`;
}

export const hourlySalesReport = defineSchedule(topology, {
  name: "hourly-sales-report",
  cron: "0 * * * *",
  timeZone: "UTC",
  topic: "reports",
  subject: "ReportRequested",
  payload: (tick) => ({ reportId: `hourly-sales-${compactTime(tick.iso)}`, kind: "sales", rows: 1_000 }),
  catchUp: "latest",
  overlap: false,
});

export const schedules = scheduleList([hourlySalesReport]);

export * from "./scheduleDsl.js";
