/**
 * The in-memory ledger: the development default. It only deduplicates within one process (a
 * second pod has its own memory); use the Redis store wherever more than one worker runs.
 * Values are stored JSON-encoded, as in Redis, so both stores behave the same.
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
  outcome: string | undefined;
  checkpoint: string | undefined;
  expiresAt: number;
}

export interface MemoryLedgerOptions {
  /** The clock for leases and TTLs (tests pass a fake one). */
  readonly now?: () => number;
  /**
   * At most this many job records (default 100,000): beyond it the oldest ones that are not
   * running are dropped (their keys could then run again). Expired records are swept as it fills.
   */
  readonly maxEntries?: number;
}

const keyOf = (key: LedgerKey): string => `${key.scope}\u0000${key.id}`;

export class MemoryLedgerStore implements LedgerStore {
  private readonly now: () => number;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly cancels = new Map<string, { value: string; expiresAt: number }>();
  private readonly listeners = new Set<(id: string, c: Cancellation) => void>();

  private readonly maxEntries: number;

  constructor(options: MemoryLedgerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** Keeps the map bounded: sweep expired records, then drop the oldest idle or done ones. */
  private evict(): void {
    if (this.jobs.size < this.maxEntries) return;
    const now = this.now();
    for (const [k, r] of this.jobs) if (r.expiresAt <= now) this.jobs.delete(k);
    for (const [k, r] of this.jobs) {
      if (this.jobs.size < this.maxEntries * 0.9) break;
      if (r.state !== "running") this.jobs.delete(k);
    }
    for (const [id, c] of this.cancels) if (c.expiresAt <= now) this.cancels.delete(id);
  }

  /** `k` is `keyOf(key)`: callers make it once (a fresh string hashes on every lookup). */
  private job(k: string): JobRecord | undefined {
    const record = this.jobs.get(k);
    if (record && record.expiresAt <= this.now()) {
      this.jobs.delete(k);
      return undefined;
    }
    return record;
  }

  private cancelRecord(id: string): Cancellation | undefined {
    const record = this.cancels.get(id);
    if (record && record.expiresAt <= this.now()) this.cancels.delete(id);
    else if (record) return decodeJson(record.value) as Cancellation;
    return undefined;
  }

  claim(key: LedgerKey, holder: string, leaseMs: number): Promise<ClaimResult> {
    const now = this.now();
    const cancellation = this.cancelRecord(key.id);
    if (cancellation) return Promise.resolve({ kind: "cancelled", cancellation });
    const k = keyOf(key);
    const record = this.job(k);
    if (record?.state === "done") {
      return Promise.resolve({ kind: "done", outcome: decodeJson(record.outcome) as LedgerOutcome });
    }
    if (record?.state === "running" && record.holder !== holder && record.leaseUntil > now) {
      return Promise.resolve({
        kind: "held",
        holder: record.holder ?? "",
        leaseExpiresAt: record.leaseUntil,
        remainingMs: record.leaseUntil - now,
      });
    }
    const takeover = record?.state === "running" && record.holder !== holder;
    const next: JobRecord = {
      state: "running",
      holder,
      leaseUntil: now + leaseMs,
      outcome: undefined,
      checkpoint: record?.checkpoint,
      expiresAt: now + DEFAULT_OUTCOME_TTL_MS,
    };
    this.evict();
    this.jobs.set(k, next);
    return Promise.resolve({ kind: "claimed", checkpoint: decodeJson(next.checkpoint), takeover });
  }

  renew(key: LedgerKey, holder: string, leaseMs: number): Promise<RenewResult> {
    const cancellation = this.cancelRecord(key.id);
    if (cancellation) return Promise.resolve({ kind: "cancelled", cancellation });
    const record = this.job(keyOf(key));
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
    const k = keyOf(key);
    const record = this.job(k);
    if (record?.state === "done") return Promise.resolve(false);
    const done: JobRecord = record ?? {
      state: "done",
      holder: undefined,
      leaseUntil: 0,
      outcome: undefined,
      checkpoint: undefined,
      expiresAt: 0,
    };
    // Reuses the claim's record: one long-lived object per key, not two (less to promote and GC).
    done.state = "done";
    done.holder = undefined;
    done.leaseUntil = 0;
    done.outcome = encodeJson(outcome);
    done.checkpoint = undefined;
    done.expiresAt = this.now() + ttlMs;
    if (!record) this.jobs.set(k, done);
    return Promise.resolve(true);
  }

  release(key: LedgerKey, holder: string): Promise<void> {
    const k = keyOf(key);
    const record = this.job(k);
    if (record?.state === "running" && record.holder === holder) {
      if (record.checkpoint === undefined) this.jobs.delete(k);
      else Object.assign(record, { state: "idle", holder: undefined, leaseUntil: 0 });
    }
    return Promise.resolve();
  }

  setCheckpoint(key: LedgerKey, holder: string, state: unknown): Promise<boolean> {
    const text = encodeJson(state);
    const record = this.job(keyOf(key));
    if (record?.state !== "running" || record.holder !== holder) return Promise.resolve(false);
    record.checkpoint = text;
    return Promise.resolve(true);
  }

  getCheckpoint(key: LedgerKey): Promise<unknown> {
    return Promise.resolve(decodeJson(this.job(keyOf(key))?.checkpoint));
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
