/**
 * The in-memory ledger: the development default. It only deduplicates within one process (a
 * second pod has its own memory); use the Redis store wherever more than one worker runs.
 * Checkpoints are stored JSON-encoded, as in Redis, so a state that could not be resumed on
 * another pod fails here too. An outcome is kept as two fields of the job's record (when and by
 * which holder), not an object of its own: done records are what the store holds most of.
 *
 * Records live in one map per scope, keyed by the idempotency key itself: the key string comes
 * from the message and is hashed once for every lookup of the delivery (a composite key would be
 * a fresh string, hashed again on each call). Every claim runs through here, so it stays lean.
 */
import type {
  Cancellation,
  ClaimResult,
  LedgerKey,
  LedgerOutcome,
  LedgerStore,
  RenewResult,
} from "./types.js";
import { decodeJson, DEFAULT_OUTCOME_TTL_MS, encodeJson } from "./types.js";

interface JobRecord {
  state: "running" | "idle" | "done";
  holder: string | undefined;
  leaseUntil: number;
  /** When the outcome was recorded (state "done"; its holder is `holder`). */
  doneAt: number;
  checkpoint: string | undefined;
  expiresAt: number;
}

export interface MemoryLedgerOptions {
  /** The clock for leases and TTLs (tests pass a fake one). */
  readonly now?: () => number;
  /**
   * At most this many job records (default 100,000): beyond it expired records are swept, then
   * the oldest that are not running, across every scope, are dropped down to 90 % (their keys
   * could then run again).
   */
  readonly maxEntries?: number;
}

export class MemoryLedgerStore implements LedgerStore {
  private readonly now: () => number;
  /** scope → idempotency key → record. */
  private readonly scopes = new Map<string, Map<string, JobRecord>>();
  private size = 0;
  private readonly cancels = new Map<string, { value: string; expiresAt: number }>();
  private readonly listeners = new Set<(id: string, c: Cancellation) => void>();

  private readonly maxEntries: number;

  constructor(options: MemoryLedgerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** Keeps the store bounded: sweep expired records, then drop the oldest idle or done ones. */
  private evict(): void {
    if (this.size < this.maxEntries) return;
    const now = this.now();
    for (const jobs of this.scopes.values())
      for (const [k, r] of jobs) if (r.expiresAt <= now) this.delete(jobs, k);
    const excess = this.size - Math.floor(this.maxEntries * 0.9);
    if (excess > 0) {
      // Oldest across every scope: the earliest expiry (a record's expiry is its last write plus
      // the TTL). Sorting here is rare: once per tenth of maxEntries claims.
      const ages: number[] = [];
      for (const jobs of this.scopes.values())
        for (const r of jobs.values()) if (r.state !== "running") ages.push(r.expiresAt);
      ages.sort((a, b) => a - b);
      const cutoff = ages[Math.min(excess, ages.length) - 1];
      let drop = excess;
      for (const jobs of this.scopes.values())
        for (const [k, r] of jobs) {
          if (drop <= 0 || cutoff === undefined) break;
          if (r.state !== "running" && r.expiresAt <= cutoff) {
            this.delete(jobs, k);
            drop -= 1;
          }
        }
    }
    for (const [id, c] of this.cancels) if (c.expiresAt <= now) this.cancels.delete(id);
  }

  private delete(jobs: Map<string, JobRecord>, id: string): void {
    if (jobs.delete(id)) this.size -= 1;
  }

  private put(key: LedgerKey, record: JobRecord): void {
    let jobs = this.scopes.get(key.scope);
    if (!jobs) this.scopes.set(key.scope, (jobs = new Map<string, JobRecord>()));
    if (!jobs.has(key.id)) this.size += 1;
    jobs.set(key.id, record);
  }

  private job(key: LedgerKey): JobRecord | undefined {
    const jobs = this.scopes.get(key.scope);
    const record = jobs?.get(key.id);
    if (record && record.expiresAt <= this.now()) {
      this.delete(jobs!, key.id);
      return undefined;
    }
    return record;
  }

  private cancelRecord(id: string): Cancellation | undefined {
    if (this.cancels.size === 0) return undefined;
    const record = this.cancels.get(id);
    if (record && record.expiresAt <= this.now()) this.cancels.delete(id);
    else if (record) return decodeJson(record.value) as Cancellation;
    return undefined;
  }

  claim(key: LedgerKey, holder: string, leaseMs: number): Promise<ClaimResult> {
    const cancellation = this.cancelRecord(key.id);
    if (cancellation) return Promise.resolve({ kind: "cancelled", cancellation });
    const record = this.job(key);
    if (record?.state === "done") {
      const outcome: LedgerOutcome = { status: "succeeded", at: record.doneAt, holder: record.holder ?? "" };
      return Promise.resolve({ kind: "done", outcome });
    }
    const now = this.now();
    if (record?.state === "running" && record.holder !== holder && record.leaseUntil > now) {
      return Promise.resolve({
        kind: "held",
        holder: record.holder ?? "",
        leaseExpiresAt: record.leaseUntil,
        remainingMs: record.leaseUntil - now,
      });
    }
    const takeover = record?.state === "running" && record.holder !== holder;
    const checkpoint = record?.checkpoint;
    const next: JobRecord = {
      state: "running",
      holder,
      leaseUntil: now + leaseMs,
      doneAt: 0,
      checkpoint,
      expiresAt: now + DEFAULT_OUTCOME_TTL_MS,
    };
    this.evict();
    this.put(key, next);
    return Promise.resolve({
      kind: "claimed",
      checkpoint: checkpoint === undefined ? undefined : decodeJson(checkpoint),
      takeover,
    });
  }

  renew(key: LedgerKey, holder: string, leaseMs: number): Promise<RenewResult> {
    const cancellation = this.cancelRecord(key.id);
    if (cancellation) return Promise.resolve({ kind: "cancelled", cancellation });
    const record = this.job(key);
    const now = this.now();
    // An expired lease still held by us (nobody took over) may be extended.
    if (record?.state !== "running" || record.holder !== holder) return Promise.resolve({ kind: "lost" });
    record.leaseUntil = now + leaseMs;
    return Promise.resolve({ kind: "renewed" });
  }

  complete(
    key: LedgerKey,
    _holder: string,
    outcome: LedgerOutcome,
    ttlMs = DEFAULT_OUTCOME_TTL_MS,
  ): Promise<boolean> {
    const record = this.job(key);
    if (record?.state === "done") return Promise.resolve(false);
    const done: JobRecord = record ?? {
      state: "done",
      holder: undefined,
      leaseUntil: 0,
      doneAt: 0,
      checkpoint: undefined,
      expiresAt: 0,
    };
    // Reuses the claim's record: one long-lived object per key, not two (less to promote and GC).
    done.state = "done";
    done.holder = outcome.holder;
    done.leaseUntil = 0;
    done.doneAt = outcome.at;
    done.checkpoint = undefined;
    done.expiresAt = this.now() + ttlMs;
    if (!record) this.put(key, done);
    return Promise.resolve(true);
  }

  release(key: LedgerKey, holder: string): Promise<void> {
    const record = this.job(key);
    if (record?.state === "running" && record.holder === holder) {
      if (record.checkpoint === undefined) this.delete(this.scopes.get(key.scope)!, key.id);
      else Object.assign(record, { state: "idle", holder: undefined, leaseUntil: 0 });
    }
    return Promise.resolve();
  }

  setCheckpoint(key: LedgerKey, holder: string, state: unknown): Promise<boolean> {
    const text = encodeJson(state);
    const record = this.job(key);
    if (record?.state !== "running" || record.holder !== holder) return Promise.resolve(false);
    record.checkpoint = text;
    return Promise.resolve(true);
  }

  getCheckpoint(key: LedgerKey): Promise<unknown> {
    return Promise.resolve(decodeJson(this.job(key)?.checkpoint));
  }

  cancel(id: string, cancellation: Cancellation, ttlMs = DEFAULT_OUTCOME_TTL_MS): Promise<void> {
    this.cancels.set(id, { value: encodeJson(cancellation), expiresAt: this.now() + ttlMs });
    for (const listener of this.listeners) listener(id, cancellation);
    return Promise.resolve();
  }

  cancellation(id: string): Promise<Cancellation | undefined> {
    return Promise.resolve(this.cancelRecord(id));
  }

  clearCancellation(id: string): Promise<void> {
    this.cancels.delete(id);
    return Promise.resolve();
  }

  onCancel(listener: (id: string, cancellation: Cancellation) => void): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    return Promise.resolve(() => {
      this.listeners.delete(listener);
      return Promise.resolve();
    });
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
