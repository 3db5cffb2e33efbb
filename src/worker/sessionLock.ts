/**
 * The lock of a held session (./sessionConsumer.ts), renewed for as long as the session is held:
 * no time limit, since a handler may run as long as it needs (the job's stall detection watches
 * it). Renewals and the loss are told to the session's current delivery: its trace gets an event,
 * and on loss its job (or, before admission, its handler) is aborted with LockLostError.
 */
import type { ServiceBusSessionReceiver } from "@azure/service-bus";
import type { Logger } from "pino";
import { ATTR, EVENT } from "../telemetry/attributes.js";
import { LockLostError } from "./jobs/abort.js";
import type { RunningJob } from "./jobs/job.js";
import { startLockRenewal, type LockRenewal } from "./lockRenewal.js";
import type { WorkerObserver } from "./observer.js";
import type { Delivery } from "./settle.js";

/** What of the held session the renewal looks at when it reports. */
export interface SessionInHand {
  readonly current: Delivery | undefined;
  readonly job: RunningJob | undefined;
}

export function renewSessionLock(
  receiver: ServiceBusSessionReceiver,
  held: () => SessionInHand,
  report: { readonly key: string; readonly observer: Required<WorkerObserver>; readonly log: Logger },
): LockRenewal {
  const { key, observer, log } = report;
  const sessionId = receiver.sessionId;
  return startLockRenewal({
    lockedUntil: () => receiver.sessionLockedUntilUtc,
    renew: () => receiver.renewSessionLock(),
    maxRenewalMs: Number.POSITIVE_INFINITY,
    onRenewed: () => {
      held().current?.trace?.event(EVENT.lockRenewed, { [ATTR.lock]: "session" });
      observer.lockRenewed({ subscription: key, lock: "session", id: sessionId });
    },
    onLost: (error) => {
      const { current, job } = held();
      current?.trace?.event(EVENT.lockLost, { [ATTR.lock]: "session" });
      observer.lockLost({ subscription: key, lock: "session", id: sessionId });
      const lost = new LockLostError("session", { cause: error });
      if (job) job.abort(lost);
      else current?.controller.abort(lost);
    },
    onError: (error) => log.warn({ err: error, sessionId }, "session lock renewal failed"),
  });
}
