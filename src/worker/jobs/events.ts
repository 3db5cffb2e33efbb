/**
 * Publishing job events (`job-events`: JobStarted, JobProgress, JobSucceeded, JobFailed,
 * JobDeadLettered). Sends never delay the job or its settlement: each is started and tracked, and
 * `flush()` (called by the worker's shutdown before the publisher closes) waits for what is in
 * flight. A failed send is logged once and dropped: events are informational.
 */
import type { Logger } from "pino";
import type { Publisher } from "../../publisher/index.js";
import type { TopologyShape } from "../../topics/dsl.js";
import { JOB_EVENTS_KEY } from "../../topics/job-events.js";

export type JobEventSubject = "JobStarted" | "JobProgress" | "JobSucceeded" | "JobFailed" | "JobDeadLettered";

export interface JobEventSink {
  readonly enabled: boolean;
  emit(subject: JobEventSubject, payload: Record<string, unknown>): void;
  flush(): Promise<void>;
}

export type SendEvent = (subject: JobEventSubject, payload: Record<string, unknown>) => Promise<unknown>;

export function jobEventSink(send: SendEvent | undefined, log: Logger): JobEventSink {
  const inFlight = new Set<Promise<unknown>>();
  return {
    enabled: send !== undefined,
    emit(subject, payload) {
      if (!send) return;
      const sending = send(subject, payload).catch((error: unknown) =>
        log.warn({ err: error, subject, jobId: payload.jobId }, "publishing a job event failed"),
      );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    },
    async flush() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export const noJobEvents: JobEventSink = {
  enabled: false,
  emit: () => {},
  flush: () => Promise.resolve(),
};

/** Sends job events with the worker's publisher, when the topology has a `job-events` topic. */
export function jobEventSender(
  publisher: Publisher<TopologyShape>,
  topology: TopologyShape,
): SendEvent | undefined {
  if (!topology[JOB_EVENTS_KEY]) return undefined;
  return (subject, payload) => publisher.publish(JOB_EVENTS_KEY, subject, payload);
}
