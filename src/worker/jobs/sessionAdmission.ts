/**
 * The ledger's admission for a session subscription, in place: a key held by another worker is
 * waited for with the session lock held (order within the session must not change; a wait copy
 * would reorder it), a done or cancelled key is settled here.
 */
import type { ServiceBusReceivedMessage, ServiceBusSessionReceiver } from "@azure/service-bus";
import type { Delivery, SettleDeps } from "../settle.js";
import { settle } from "../settle.js";
import { settleSkipped } from "./defer.js";
import type { RunningJob } from "./job.js";
import type { SubscriptionJobs } from "./runtime.js";

export interface SessionAdmission {
  readonly jobs: SubscriptionJobs;
  readonly deps: SettleDeps & { readonly receiver: ServiceBusSessionReceiver };
  readonly message: ServiceBusReceivedMessage;
  readonly delivery: Delivery;
  /** An in-place retry: a checkpoint of the earlier attempt may exist. */
  readonly retry: boolean;
  /** Aborted when the session lock is lost. */
  readonly lost: AbortSignal;
  /** Waits `ms` (the session lock held); false when the drain or a lost lock interrupted it. */
  wait(ms: number): Promise<boolean>;
}

/** Resolves with the job to run, or undefined: nothing to run (settled, or the wait was cut short). */
export async function admitInSession(a: SessionAdmission): Promise<RunningJob | undefined> {
  const { deps, delivery } = a;
  const load = a.retry || (a.message.deliveryCount ?? 0) > 0;
  for (;;) {
    const admission = await a.jobs.admit(a.message, delivery, { receiver: deps.receiver, load });
    if (admission.kind === "run") return admission.job;
    if (admission.kind === "skip") {
      await settleSkipped(deps, delivery, admission);
      return undefined;
    }
    // An unreachable ledger is logged once per outage by the job runtime.
    if (admission.why === "held") {
      const { messageId, sessionId } = delivery.event;
      deps.log.info({ messageId, sessionId }, "job held by another worker; waiting");
    }
    if (!(await a.wait(admission.retryInMs))) {
      if (!a.lost.aborted) await settle(deps, delivery, { kind: "abandon" });
      else delivery.settled = true;
      return undefined;
    }
  }
}
