/**
 * The job runtime of one worker: admits each delivery through the idempotency ledger before its
 * handler runs, and routes cancellations to the jobs running here.
 *
 * Admission, per delivery (the consumers act on the answer):
 * | ledger says                       | admission | the consumer                                   |
 * |-----------------------------------|-----------|------------------------------------------------|
 * | done (an outcome is recorded)     | skip      | completes without running the handler (counted) |
 * | cancelled                         | skip      | dead-letters `Cancelled` without running it     |
 * | held by another live holder       | held      | plain: wait copy at lease expiry, complete; sessions: wait in place |
 * | store unreachable                 | held      | the same, after a few seconds                   |
 * | claimed (fresh, or taken over)    | run       | runs the handler under a `RunningJob`           |
 * With no ledger (`SBW_LEDGER=off`) every delivery runs (heartbeats and stall detection still work).
 */
import { randomUUID } from "node:crypto";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import type { Logger } from "pino";
import type { SubscriptionBinding } from "../config.js";
import type { Abortable } from "../lazyAbort.js";
import type { DeliveryEvent } from "../observer.js";
import type { Settlement } from "../policy.js";
import { describe } from "../policy.js";
import type { Cancellation, LedgerKey, LedgerStore } from "../ledger/types.js";
import type { AbortCode, JobAbortError } from "./abort.js";
import { ErrorStreak, LEDGER_LINES } from "../errorStreak.js";
import { deferDelay } from "./defer.js";
import { jobEventSink, type JobEventSink, type SendEvent } from "./events.js";
import { RunningJob, type CheckpointBackend, type JobSettings } from "./job.js";
import { idempotencyKeyOf } from "./key.js";
import { SessionCheckpoints } from "./sessionCheckpoint.js";

export type Admission =
  | { readonly kind: "run"; readonly job: RunningJob }
  | { readonly kind: "skip"; readonly why: "done" | "cancelled"; readonly settlement: Settlement }
  | { readonly kind: "held"; readonly retryInMs: number; readonly why: "held" | "unavailable" };

export interface JobRuntimeOptions {
  readonly store: LedgerStore | undefined;
  /** Names this worker in holder ids (default: a random id). */
  readonly instanceId?: string;
  readonly settings: Omit<JobSettings, "stallTimeoutMs">;
  readonly log: Logger;
  readonly observer: Required<JobObserver>;
}

/** Job hooks of the worker observer (src/worker/observer.ts), for telemetry and tests. */
export interface JobObserver {
  /** A delivery was settled without running its handler: its key is done, or was cancelled. */
  jobSkipped?(event: DeliveryEvent & { readonly jobId: string; readonly why: "done" | "cancelled" }): void;
  /** A running handler's signal was aborted by the job runtime. */
  jobAborted?(event: DeliveryEvent & { readonly jobId: string; readonly code: AbortCode }): void;
  /** The ledger store could not be reached to claim a delivery: it is deferred, not run. */
  ledgerUnavailable?(event: DeliveryEvent & { readonly jobId: string }): void;
}

/** Per-subscription job settings (from the subscription's policy). */
export interface JobPolicy {
  readonly stallTimeoutMs: number;
  /** Publish job events on `job-events` for this subscription. */
  readonly jobEvents: boolean;
}

/**
 * Jobs running in this process under one idempotency key (a key may run in several
 * subscriptions). A class, not a literal: it lives as long as its jobs and must not be
 * pretenured into old space with pointers to young jobs (docs/performance.md).
 */
class Entry {
  /** Usually one: an array is cheaper than a Set to make for every delivery. */
  readonly jobs: RunningJob[] = [];
  /** A cancellation heard while a claim was in flight. */
  cancelled: Cancellation | undefined = undefined;
  pending = 0;
}

const UNAVAILABLE_RETRY_MS = 5_000;

export class JobRuntime {
  private readonly running = new Map<string, Entry>();
  private readonly sinks: JobEventSink[] = [];
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly instanceId: string;
  private holders = 0;
  /** Renews the leases of every job running here (one timer, not one per job). */
  private leaseTicker: NodeJS.Timeout | undefined;

  /** One warning per ledger outage, not one per deferred delivery (../errorStreak.ts). */
  readonly ledgerStreak: ErrorStreak;

  private constructor(private readonly options: JobRuntimeOptions) {
    this.instanceId = options.instanceId ?? randomUUID();
    this.ledgerStreak = new ErrorStreak({ log: options.log, lines: LEDGER_LINES });
  }

  static async start(options: JobRuntimeOptions): Promise<JobRuntime> {
    const runtime = new JobRuntime(options);
    if (options.store) {
      runtime.unsubscribe = await options.store.onCancel((id, c) => runtime.cancelLocal(id, c));
      // Every third of the lease, so a lease never runs out while its job is alive here; a job
      // claimed just before a tick is renewed early, which costs one store call and nothing else.
      const every = Math.max(50, Math.floor(options.settings.leaseMs / 3));
      runtime.leaseTicker = setInterval(() => runtime.renewLeases(), every);
      runtime.leaseTicker.unref();
    }
    return runtime;
  }

  get store(): LedgerStore | undefined {
    return this.options.store;
  }

  /** Aborts every job with this key running here; returns how many. */
  cancelLocal(id: string, cancellation: Cancellation): number {
    const entry = this.running.get(id);
    if (!entry) return 0;
    if (entry.pending > 0) entry.cancelled = cancellation;
    for (const job of [...entry.jobs]) job.cancel(cancellation.reason);
    return entry.jobs.length;
  }

  forSubscription(
    binding: SubscriptionBinding,
    policy: JobPolicy,
    send: SendEvent | undefined,
    log: Logger,
  ): SubscriptionJobs {
    const sink = jobEventSink(policy.jobEvents ? send : undefined, log);
    this.sinks.push(sink);
    return new SubscriptionJobs(this, binding, policy, sink, log);
  }

  /** @internal */
  enter(id: string): Entry {
    let entry = this.running.get(id);
    if (!entry) this.running.set(id, (entry = new Entry()));
    entry.pending += 1;
    return entry;
  }

  /** @internal */
  leave(id: string, entry: Entry, job?: RunningJob): void {
    if (job) {
      const i = entry.jobs.indexOf(job);
      if (i >= 0) entry.jobs.splice(i, 1);
    }
    if (entry.jobs.length === 0 && entry.pending === 0) this.running.delete(id);
  }

  private renewLeases(): void {
    for (const entry of this.running.values()) for (const job of entry.jobs) void job.renewLease();
  }

  /** @internal A holder id: unique per delivery (a random instance id and a counter). */
  holder(): string {
    return `${this.instanceId}/${(this.holders += 1)}`;
  }

  /** @internal */
  get config(): JobRuntimeOptions {
    return this.options;
  }

  /** Waits for job events in flight and stops hearing cancellations (the store is closed by its owner). */
  async close(): Promise<void> {
    clearInterval(this.leaseTicker);
    this.leaseTicker = undefined;
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
    await Promise.all(this.sinks.map((s) => s.flush()));
  }
}

export class SubscriptionJobs {
  /** The runtime's settings with this subscription's stall timeout, shared by its jobs. */
  private readonly settings: JobSettings;

  constructor(
    private readonly runtime: JobRuntime,
    readonly binding: SubscriptionBinding,
    policy: JobPolicy,
    readonly events: JobEventSink,
    private readonly log: Logger,
  ) {
    this.settings = { ...runtime.config.settings, stallTimeoutMs: policy.stallTimeoutMs };
  }

  /**
   * Claims the delivery's key. `session`: the session receiver, for checkpoints in session state;
   * `load` says whether one may exist (a redelivery or an in-place retry; a first try has none).
   */
  async admit(
    message: ServiceBusReceivedMessage,
    delivery: { readonly event: DeliveryEvent; readonly controller: Abortable },
    session?: {
      readonly receiver: ConstructorParameters<typeof SessionCheckpoints>[0];
      readonly load: boolean;
    },
  ): Promise<Admission> {
    const { store, settings, observer } = this.runtime.config;
    const id = idempotencyKeyOf(message);
    const key: LedgerKey = { scope: this.binding.key, id };
    // Only the ledger needs a holder id (unique per delivery: ./runtime.ts holder()).
    const holder = store ? this.runtime.holder() : "";
    const entry = this.runtime.enter(id);
    let resumeFrom: unknown;
    let checkpoints: CheckpointBackend | undefined;
    let early: Admission | undefined;
    try {
      if (store) {
        const claim = await store.claim(key, holder, settings.leaseMs);
        this.runtime.ledgerStreak.recovered();
        if (claim.kind === "done") {
          observer.jobSkipped({ jobId: id, why: "done", ...delivery.event });
          early = { kind: "skip", why: "done", settlement: { kind: "complete" } };
        } else if (claim.kind === "cancelled") {
          early = this.cancelledBeforeStart(delivery.event, id, claim.cancellation);
        } else if (claim.kind === "held") {
          early = { kind: "held", why: "held", retryInMs: deferDelay(claim.remainingMs) };
        } else {
          resumeFrom = claim.checkpoint;
          checkpoints = new LedgerCheckpoints(store, key, holder);
          if (claim.takeover) this.log.info({ jobId: id }, "took over an expired claim");
        }
      }
      if (session && !early) {
        const fromSession = new SessionCheckpoints(session.receiver, id);
        if (session.load) resumeFrom = await fromSession.load();
        checkpoints = fromSession;
      }
    } catch (error) {
      if (store) await store.release(key, holder).catch(() => {}); // best effort: the lease expires anyway
      this.runtime.ledgerStreak.failed(error, { jobId: id });
      observer.ledgerUnavailable({ jobId: id, ...delivery.event });
      early = { kind: "held", why: "unavailable", retryInMs: UNAVAILABLE_RETRY_MS };
    }
    entry.pending -= 1;
    if (early) {
      this.runtime.leave(id, entry);
      return early;
    }
    const job = this.runningJob(key, holder, entry, delivery, checkpoints, resumeFrom);
    entry.jobs.push(job);
    if (entry.cancelled) job.cancel(entry.cancelled.reason);
    return { kind: "run", job };
  }

  /**
   * Not inside `admit`: closures made there would hold its whole scope (the message among it) for
   * as long as the job lives; these hold only what they use.
   */
  private runningJob(
    key: LedgerKey,
    holder: string,
    entry: Entry,
    delivery: { readonly event: DeliveryEvent; readonly controller: Abortable },
    checkpoints: CheckpointBackend | undefined,
    resumeFrom: unknown,
  ): RunningJob {
    const { event, controller } = delivery;
    const { store, observer } = this.runtime.config;
    const job: RunningJob = new RunningJob({
      key,
      holder,
      store,
      checkpoints,
      resumeFrom,
      settings: this.settings,
      controller,
      event,
      events: this.events,
      log: this.log,
      onAbort: (reason: JobAbortError) => observer.jobAborted({ jobId: key.id, code: reason.code, ...event }),
      onEnd: () => this.runtime.leave(key.id, entry, job),
    });
    return job;
  }

  private cancelledBeforeStart(event: DeliveryEvent, id: string, cancellation: Cancellation): Admission {
    this.runtime.config.observer.jobSkipped({ jobId: id, why: "cancelled", ...event });
    const handler = `${this.binding.key}/${event.subject ?? ""}`;
    const description = describe(handler, event.attempt, {
      class: "CancelledError",
      code: "Cancelled",
      message: `cancelled before it started: ${cancellation.reason}`,
    });
    if (this.events.enabled) {
      this.events.emit("JobDeadLettered", {
        jobId: id,
        topic: event.topic,
        subscription: event.subscription,
        subject: event.subject ?? "",
        messageId: event.messageId,
        attempt: event.attempt,
        at: new Date().toISOString(),
        reason: "Cancelled",
        description,
      });
    }
    return {
      kind: "skip",
      why: "cancelled",
      settlement: { kind: "deadLetter", reason: "Cancelled", description },
    };
  }
}

/** Checkpoints in the ledger: `complete` drops them, so there is nothing to clear. */
class LedgerCheckpoints implements CheckpointBackend {
  constructor(
    private readonly store: LedgerStore,
    private readonly key: LedgerKey,
    private readonly holder: string,
  ) {}

  save(state: unknown): Promise<boolean> {
    return this.store.setCheckpoint(this.key, this.holder, state);
  }
}
