/**
 * One running job: a delivery whose handler is about to run, with what issue 4 adds around it.
 *
 * - `ctx.heartbeat(progress?)` records that the handler is alive (and sends throttled progress);
 *   the first heartbeat opts the handler in to stall detection: a watchdog aborts `ctx.signal`
 *   with `Stalled` once it has been silent for `stallTimeoutMs`, and `shouldRenewLock()` (the lock
 *   renewal's gate, see ./renewalPolicy.ts) stops renewing the lock.
 * - The ledger claim's lease is renewed every third of `leaseMs` (the runtime's one ticker calls
 *   `renewLease()` on every started job); a renewal that finds the claim gone aborts with
 *   `LockLost` (lock `claim`), one that finds a cancellation with `Cancelled`.
 * - `ctx.checkpoint(state)` saves progress (ledger store, or session state for sessions);
 *   `ctx.resumeFrom` is the checkpoint found when the job was admitted.
 * - `finish()` records the outcome after a success (then the test-only fault hook may kill the
 *   process), or releases the claim; and publishes the job event that matches the settlement.
 */
import type { Logger } from "pino";
import type { DeliveryEvent } from "../observer.js";
import type { Outcome, Settlement } from "../policy.js";
import type { LedgerKey, LedgerStore } from "../ledger/types.js";
import { isAborted, type Abortable } from "../lazyAbort.js";
import { CancelledError, LockLostError, StalledError, type JobAbortError } from "./abort.js";
import type { JobEventSink } from "./events.js";
import { decideRenewal, stallDeadline } from "./renewalPolicy.js";
import { flushDue, initialThrottle, offerProgress, type ThrottleState } from "./throttle.js";

/** What a handler's ctx gets from the job (see HandlerContext in src/handlers/registry.ts). */
export interface JobContext {
  /** The job's idempotency key (what `CancelJob` names; store it with your side effects). */
  readonly idempotencyKey: string;
  /** The last checkpoint of an earlier, interrupted run of this job; undefined on a fresh start. */
  readonly resumeFrom: unknown;
  /** "Still alive", with optional JSON progress (published as `JobProgress`, throttled). */
  readonly heartbeat: (progress?: unknown) => void;
  /**
   * Saves resumable progress (JSON); counts as a heartbeat. Throws if the claim is lost; a no-op
   * (logged once) when there is nowhere to keep it (`SBW_LEDGER=off`, plain subscription).
   */
  readonly checkpoint: (state: unknown) => Promise<void>;
}

/** Where checkpoints live: the ledger store, or the session state of a session subscription. */
export interface CheckpointBackend {
  save(state: unknown): Promise<boolean>;
  /** Drops the checkpoint once the job succeeded; absent when `complete` drops it (the ledger). */
  clear?(): Promise<void>;
}

export interface JobSettings {
  readonly leaseMs: number;
  readonly stallTimeoutMs: number;
  readonly maxLockRenewalMs: number;
  readonly outcomeTtlMs: number;
  readonly progressIntervalMs: number;
  /** Test-only fault injection (`SBW_FAULT`); see docs/reliability.md. */
  readonly fault: "exit-before-complete" | undefined;
}

/**
 * A running job's options, kept as a class-built copy: the caller's object literal is not kept
 * (a literal that lives as long as the job may be pretenured by V8; docs/performance.md).
 */
class JobOptions {
  readonly key: LedgerKey;
  readonly holder: string;
  /** Undefined: no ledger (no claim, no lease). */
  readonly store: LedgerStore | undefined;
  readonly checkpoints: CheckpointBackend | undefined;
  readonly resumeFrom: unknown;
  readonly settings: JobSettings;
  readonly controller: Abortable;
  readonly event: DeliveryEvent;
  readonly events: JobEventSink;
  readonly log: Logger;
  readonly onAbort: (reason: JobAbortError) => void;
  readonly onEnd: () => void;

  constructor(o: RunningJobOptions) {
    this.key = o.key;
    this.holder = o.holder;
    this.store = o.store;
    this.checkpoints = o.checkpoints;
    this.resumeFrom = o.resumeFrom;
    this.settings = o.settings;
    this.controller = o.controller;
    this.event = o.event;
    this.events = o.events;
    this.log = o.log;
    this.onAbort = o.onAbort;
    this.onEnd = o.onEnd;
  }
}

/** What `new RunningJob(...)` takes: the fields of {@link JobOptions}, and a clock for tests. */
export type RunningJobOptions = { readonly [K in keyof JobOptions]: JobOptions[K] } & {
  readonly now?: () => number;
};

export class RunningJob {
  readonly startedAt: number;
  private lastHeartbeatAt: number | undefined;
  private throttle: ThrottleState<unknown> = initialThrottle();
  private sequence = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private started = false;
  private renewing = false;
  private warnedNoCheckpoints = false;
  private ended = false;
  private readonly now: () => number;
  /** A class-built copy of the options (the caller's literal is not kept: docs/performance.md). */
  private readonly o: JobOptions;

  constructor(options: RunningJobOptions) {
    this.o = new JobOptions(options);
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** What the handler's ctx gets; made per call (dispatch copies what it needs, once). */
  get context(): JobContext {
    return {
      idempotencyKey: this.o.key.id,
      resumeFrom: this.o.resumeFrom,
      heartbeat: (progress) => this.heartbeat(progress),
      checkpoint: (state) => this.checkpoint(state),
    };
  }

  /** Where this job's checkpoints go (session subscriptions: a `SessionCheckpoints`). */
  get checkpoints(): CheckpointBackend | undefined {
    return this.o.checkpoints;
  }

  get signal(): AbortSignal {
    return this.o.controller.signal;
  }

  /** From now on the runtime renews the lease; announces the job. */
  start(): void {
    this.started = true;
    if (this.o.events.enabled) this.emit("JobStarted", { resumed: this.o.resumeFrom !== undefined });
  }

  /** The lock renewal's gate (heartbeat-gated renewal). */
  shouldRenewLock = (): boolean => this.decide().kind === "renew";

  private decide() {
    const { stallTimeoutMs, maxLockRenewalMs } = this.o.settings;
    return decideRenewal({
      now: this.now(),
      startedAt: this.startedAt,
      lastHeartbeatAt: this.lastHeartbeatAt,
      stallTimeoutMs,
      maxLockRenewalMs,
    });
  }

  heartbeat(progress?: unknown): void {
    if (this.ended) return;
    const first = this.lastHeartbeatAt === undefined;
    this.lastHeartbeatAt = this.now();
    if (first) this.armStallWatchdog();
    if (progress !== undefined && this.o.events.enabled) this.offer(progress);
  }

  private armStallWatchdog(): void {
    const at = stallDeadline({
      lastHeartbeatAt: this.lastHeartbeatAt,
      stallTimeoutMs: this.o.settings.stallTimeoutMs,
    });
    if (at === undefined || this.ended) return;
    this.stallTimer = setTimeout(
      () => {
        this.stallTimer = undefined;
        const decision = this.decide();
        if (decision.kind === "stall") this.abort(new StalledError(decision.silentMs));
        else this.armStallWatchdog();
      },
      Math.max(0, at - this.now() + 1),
    );
  }

  private offer(progress: unknown): void {
    const step = offerProgress(this.throttle, progress, this.now(), this.o.settings.progressIntervalMs);
    this.applyThrottle(step);
  }

  private applyThrottle(step: ReturnType<typeof offerProgress<unknown>>): void {
    this.throttle = step.state;
    if (step.send) this.emit("JobProgress", { sequence: this.sequence++, progress: step.send.progress });
    if (step.wakeAt !== undefined && !this.progressTimer) {
      this.progressTimer = setTimeout(
        () => {
          this.progressTimer = undefined;
          if (!this.ended)
            this.applyThrottle(flushDue(this.throttle, this.now(), this.o.settings.progressIntervalMs));
        },
        Math.max(0, step.wakeAt - this.now()),
      );
    }
  }

  async checkpoint(state: unknown): Promise<void> {
    this.heartbeat();
    if (isAborted(this.o.controller)) this.signal.throwIfAborted();
    const backend = this.o.checkpoints;
    if (!backend) {
      // SBW_LEDGER=off on a plain subscription: nowhere to keep it; the job restarts from scratch.
      if (!this.warnedNoCheckpoints)
        this.o.log.warn({ jobId: this.o.key.id }, "checkpoints are off without a ledger (SBW_LEDGER=off)");
      this.warnedNoCheckpoints = true;
      return;
    }
    if (!(await backend.save(state))) {
      const lost = new LockLostError("claim");
      this.abort(lost);
      throw lost;
    }
  }

  /** @internal Called by the runtime's lease ticker (./runtime.ts). */
  async renewLease(): Promise<void> {
    const store = this.o.store;
    if (!store || !this.started || this.renewing || this.ended) return;
    this.renewing = true;
    try {
      const result = await store.renew(this.o.key, this.o.holder, this.o.settings.leaseMs);
      if (result.kind === "lost") this.abort(new LockLostError("claim"));
      else if (result.kind === "cancelled") this.cancel(result.cancellation.reason);
    } catch (error) {
      // The lease is long against the renewal interval: the next tick retries.
      this.o.log.warn({ err: error, jobId: this.o.key.id }, "renewing the job's claim failed");
    } finally {
      this.renewing = false;
    }
  }

  cancel(reason: string): void {
    this.abort(new CancelledError(reason));
  }

  abort(reason: JobAbortError): void {
    if (this.ended || isAborted(this.o.controller)) return;
    this.o.controller.abort(reason);
    this.stopTimers();
    this.o.onAbort(reason);
  }

  private stopTimers(): void {
    // No array here: this runs for every message.
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.stallTimer = this.progressTimer = undefined;
  }

  /**
   * After the handler: a success records the outcome (before the broker hears `complete`), anything
   * else releases the claim so a retry or redelivery can claim it at once. `settlement` undefined:
   * the lock was lost and the message is left to the broker.
   */
  async finish(outcome: Outcome, settlement: Settlement | undefined): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.stopTimers();
    this.o.onEnd();
    const { store, key, holder, settings, log } = this.o;
    if (outcome.kind === "success" && settlement?.kind === "complete") {
      try {
        // No await without a backend or store: each one costs microtask ticks on every message.
        if (this.o.checkpoints?.clear) await this.o.checkpoints.clear();
        if (store)
          await store.complete(
            key,
            holder,
            { status: "succeeded", at: Date.now(), holder },
            settings.outcomeTtlMs,
          );
      } catch (error) {
        // Completing the message is still right; only a duplicate published later could run again.
        log.error({ err: error, jobId: key.id }, "recording the job's outcome failed");
      }
      if (settings.fault === "exit-before-complete") {
        log.warn({ jobId: key.id }, "SBW_FAULT=exit-before-complete: killing the process");
        process.kill(process.pid, "SIGKILL");
      }
      if (this.o.events.enabled) this.emit("JobSucceeded", { durationMs: this.now() - this.startedAt });
      return;
    }
    try {
      if (store) await store.release(key, holder);
    } catch (error) {
      log.warn({ err: error, jobId: key.id }, "releasing the job's claim failed; it expires with its lease");
    }
    if (settlement?.kind === "deadLetter") {
      this.emit("JobDeadLettered", { reason: settlement.reason, description: settlement.description });
    } else {
      this.emit("JobFailed", { error: errorOf(outcome), willRetry: true });
    }
  }

  private emit(subject: Parameters<JobEventSink["emit"]>[0], extra: Record<string, unknown>): void {
    if (!this.o.events.enabled) return;
    const e = this.o.event;
    this.o.events.emit(subject, {
      jobId: this.o.key.id,
      topic: e.topic,
      subscription: e.subscription,
      subject: e.subject ?? "",
      messageId: e.messageId,
      attempt: e.attempt,
      at: new Date().toISOString(),
      ...extra,
    });
  }
}

function errorOf(outcome: Outcome): { class: string; code?: string; message: string } {
  const error: unknown =
    outcome.kind === "failed"
      ? outcome.error
      : outcome.kind === "interrupted"
        ? (outcome as { reason?: unknown }).reason
        : undefined;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { class: error.name, ...(typeof code === "string" ? { code } : {}), message: error.message };
  }
  const message =
    error === undefined ? outcome.kind : typeof error === "string" ? error : JSON.stringify(error);
  return { class: outcome.kind, message: message ?? outcome.kind };
}
