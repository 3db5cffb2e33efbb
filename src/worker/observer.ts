/**
 * Hooks the worker calls as deliveries move through it: the seam for telemetry (issue 5: spans,
 * metrics) and for tests, which await these events instead of sleeping. Hooks must be cheap and
 * must not throw; a throwing hook is logged and ignored. Hooks are looked up once, when the worker
 * starts.
 */
import type { JobObserver } from "./jobs/runtime.js";
import type { Outcome, Settlement } from "./policy.js";

export interface DeliveryEvent {
  readonly topic: string;
  readonly subscription: string;
  readonly messageId: string;
  readonly sessionId: string | undefined;
  readonly subject: string | undefined;
  readonly attempt: number;
  readonly deliveryCount: number;
  /** When the broker enqueued the message (time-in-queue metric); the same Date for every attempt. */
  readonly enqueuedTimeUtc?: Date;
  /** A session's retry in place: the same delivery's handler again (its queue wait is not new). */
  readonly inPlaceRetry?: boolean;
}

/** Also `jobSkipped` and `jobAborted` (./jobs/runtime.ts): the idempotency ledger's counts. */
export interface WorkerObserver extends JobObserver {
  /** A handler is about to run (once per attempt, in-place session retries included). */
  handlerStarted?(event: DeliveryEvent): void;
  /** The handler returned, threw or was interrupted (once per `handlerStarted`). */
  handlerFinished?(
    event: DeliveryEvent & { readonly outcome: Outcome["kind"]; readonly durationMs: number },
  ): void;
  /** The settlement was carried out (for `retry`: the copy is scheduled, or the wait began). */
  settled?(event: DeliveryEvent & { readonly settlement: Settlement; readonly durationMs: number }): void;
  /** Settling failed; the lock is left to expire and the broker redelivers. */
  settleFailed?(event: DeliveryEvent & { readonly error: unknown }): void;
  lockRenewed?(event: {
    readonly subscription: string;
    readonly lock: "message" | "session";
    readonly id: string;
  }): void;
  lockLost?(event: {
    readonly subscription: string;
    readonly lock: "message" | "session";
    readonly id: string;
  }): void;
  sessionAccepted?(event: {
    readonly subscription: string;
    readonly sessionId: string;
    /** How long the accept that got this session waited. */
    readonly acquireMs?: number;
  }): void;
  sessionReleased?(event: {
    readonly subscription: string;
    readonly sessionId: string;
    readonly reason: "idle" | "drain" | "lockLost" | "error";
  }): void;
  /** A receive cycle failed (reported once per failed cycle). */
  receiveError?(event: { readonly subscription: string; readonly error: unknown }): void;
}

/** What a combined observer has for a hook nobody observes (see `observes`). */
const noHook = (): void => {};

/**
 * `event` for another attempt of the same delivery (a session's retry in place).
 *
 * Written out field by field, as the per-message event objects that add fields put them before
 * the spread (`{ settlement, durationMs, ...event }`): on Node 20 (V8 11.3) a property added
 * after a spread, `{ ...event, attempt }`, takes a slow path that costs about 1 µs per object,
 * against about 0.1 µs the other way round (docs/performance.md).
 */
export function eventWith(event: DeliveryEvent, attempt: number, inPlaceRetry: boolean): DeliveryEvent {
  // Every key, optional ones included: a field added to DeliveryEvent fails to compile here.
  const next: { [K in keyof Required<DeliveryEvent>]: DeliveryEvent[K] } = {
    topic: event.topic,
    subscription: event.subscription,
    messageId: event.messageId,
    sessionId: event.sessionId,
    subject: event.subject,
    attempt,
    deliveryCount: event.deliveryCount,
    enqueuedTimeUtc: event.enqueuedTimeUtc,
    inPlaceRetry,
  };
  return next;
}

/** Whether any observer has `hook`: callers skip building an event nobody would read. */
export function observes(observer: Required<WorkerObserver>, hook: keyof WorkerObserver): boolean {
  return observer[hook] !== noHook;
}

/** Calls every observer's hook, isolating failures. */
export function combineObservers(
  observers: readonly WorkerObserver[],
  onError: (hook: string, error: unknown) => void,
): Required<WorkerObserver> {
  // Per hook, only the observers that have it, resolved once: hooks run for every message.
  const call = <K extends keyof WorkerObserver>(hook: K) => {
    type Event = Parameters<NonNullable<WorkerObserver[K]>>[0];
    const bound = observers.flatMap((observer) => {
      const fn = observer[hook] as ((e: Event) => void) | undefined;
      return fn ? [{ observer, fn }] : [];
    });
    if (bound.length === 0) return noHook;
    return (event: Event): void => {
      for (const { observer, fn } of bound) {
        try {
          fn.call(observer, event);
        } catch (error) {
          onError(hook, error);
        }
      }
    };
  };
  return {
    handlerStarted: call("handlerStarted"),
    handlerFinished: call("handlerFinished"),
    settled: call("settled"),
    settleFailed: call("settleFailed"),
    lockRenewed: call("lockRenewed"),
    lockLost: call("lockLost"),
    sessionAccepted: call("sessionAccepted"),
    sessionReleased: call("sessionReleased"),
    receiveError: call("receiveError"),
    jobSkipped: call("jobSkipped"),
    jobAborted: call("jobAborted"),
    ledgerUnavailable: call("ledgerUnavailable"),
  };
}
