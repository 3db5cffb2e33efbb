/**
 * Topic `job-control`: `CancelJob` stops a job by its idempotency key (`jobId`), wherever it runs.
 *
 * Fan-out to every pod does not come from Service Bus (a subscription is shared: each message
 * reaches ONE of the pods reading it, and a per-pod subscription cannot be declared in a static
 * topology). The worker's built-in `job-control/cancel` handler writes the cancellation into the
 * ledger store instead; every worker hears of it from the store (Redis pub/sub, with each claim
 * renewal checking the marker as a backstop) and aborts the job's `ctx.signal` with `Cancelled`.
 * A job that has not started yet is dead-lettered `Cancelled` without running when it arrives.
 */
import { z } from "zod";
import { defineTopic } from "./dsl.js";

export const CancelJob = z.object({
  jobId: z.string().min(1).max(512),
  reason: z.string().max(1_000).default("cancelled by request"),
});

export const JOB_CONTROL_KEY = "job-control";

export function defineJobControl<const N extends string>(name: N) {
  return defineTopic({
    name,
    duplicateDetection: { windowMs: 5 * 60_000 },
    messages: { CancelJob },
    messageId: (message) => `cancel:${message.payload.jobId}`,
    subscriptions: {
      cancel: { maxDeliveryCount: 10, lockDurationMs: 30_000, policy: { concurrency: 4, maxAttempts: 10 } },
    },
  });
}

export const jobControl = defineJobControl("job-control");
