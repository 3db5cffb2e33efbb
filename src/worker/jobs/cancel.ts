/**
 * The worker's built-in handler of `job-control/cancel` (`CancelJob`): it writes the cancellation
 * into the ledger store, which tells every worker sharing the store (see src/topics/job-control.ts
 * for why the fan-out goes through the store and not through Service Bus). Without a store only
 * jobs in this process can be cancelled.
 */
import type { AnyHandler, HandlerRegistry } from "../../handlers/registry.js";
import { CancelJob, JOB_CONTROL_KEY } from "../../topics/job-control.js";
import type { TopologyShape } from "../../topics/dsl.js";
import type { JobRuntime } from "./runtime.js";

const SUBSCRIPTION = "cancel";

export function cancelJobHandler(runtimeOf: () => JobRuntime | undefined): AnyHandler {
  return async (payload, ctx) => {
    const runtime = runtimeOf();
    if (!runtime) throw new Error("the job runtime is not running");
    const { jobId, reason } = CancelJob.parse(payload);
    const cancellation = { reason, requestedAt: Date.now() };
    if (runtime.store) {
      await runtime.store.cancel(jobId, cancellation);
      ctx.log.info({ jobId, reason }, "job cancelled");
    } else {
      const stopped = runtime.cancelLocal(jobId, cancellation);
      ctx.log.warn({ jobId, stopped }, "no ledger store: a cancellation reaches this process only");
    }
  };
}

/**
 * The registry with the built-in `CancelJob` handler added, when the topology has a `job-control`
 * topic and the application did not register its own.
 */
export function withJobControl<T extends TopologyShape>(
  registry: HandlerRegistry<T>,
  runtime: () => JobRuntime | undefined,
): HandlerRegistry<T> {
  const topic = registry.topology[JOB_CONTROL_KEY];
  if (!topic?.subscriptions[SUBSCRIPTION] || !topic.messages.CancelJob) return registry;
  const builtIn = cancelJobHandler(runtime);
  const key = `${JOB_CONTROL_KEY}/${SUBSCRIPTION}`;
  return {
    topology: registry.topology,
    lookup: (t, s, subject) =>
      registry.lookup(t, s, subject) ??
      (t === JOB_CONTROL_KEY && s === SUBSCRIPTION && subject === "CancelJob" ? builtIn : undefined),
    subscriptions: () => [...new Set([...registry.subscriptions(), key])],
  };
}
