/**
 * Topic `job-events`: what a foreground service reads to show the status of background jobs.
 * The worker publishes them for subscriptions whose policy sets `jobEvents: true`; `jobId` is the
 * job's idempotency key (what `CancelJob` takes), `attempt` the handler attempt.
 *
 * `JobStarted` → `JobProgress`* (throttled) → `JobSucceeded` | `JobFailed` (retried or not) |
 * `JobDeadLettered`. Events are informational and short-lived (one hour); they are not deduplicated.
 */
import { z } from "zod";
import { defineTopic } from "./dsl.js";

const job = {
  jobId: z.string().min(1),
  topic: z.string(),
  subscription: z.string(),
  subject: z.string(),
  messageId: z.string(),
  attempt: z.int().positive(),
  at: z.iso.datetime(),
};

export const JobStarted = z.object({ ...job, resumed: z.boolean() });
export const JobProgress = z.object({ ...job, sequence: z.int().nonnegative(), progress: z.json() });
export const JobSucceeded = z.object({ ...job, durationMs: z.number().nonnegative() });
export const JobFailed = z.object({
  ...job,
  error: z.object({ class: z.string(), code: z.string().optional(), message: z.string() }),
  /** Abandoned, retried with a copy, or left to the broker (lock lost): it runs again. */
  willRetry: z.boolean(),
});
export const JobDeadLettered = z.object({ ...job, reason: z.string(), description: z.string() });

export const JOB_EVENTS_KEY = "job-events";

/** The topic with a given entity name (tests use unique names). */
export function defineJobEvents<const N extends string>(name: N) {
  return defineTopic({
    name,
    defaultMessageTtlMs: 60 * 60_000,
    messages: { JobStarted, JobProgress, JobSucceeded, JobFailed, JobDeadLettered },
    subscriptions: {
      /** For a foreground service's status view (the worker has no handler for it). */
      status: { maxDeliveryCount: 3, lockDurationMs: 30_000, defaultMessageTtlMs: 60 * 60_000 },
    },
  });
}

export const jobEvents = defineJobEvents("job-events");
