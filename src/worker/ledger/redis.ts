/**
 * The Redis ledger (`REDIS_URL`): the production store, shared by every worker.
 *
 * One hash per job, `<prefix>job:<scope>:{<id>}` (fields `state` running | idle | done, `holder`,
 * `leaseUntil`, `outcome`, `checkpoint`), and one string per cancellation, `<prefix>cancel:{<id>}`;
 * the `{id}` hash tag keeps both in one slot for Redis Cluster. Claim, renew, complete, release and
 * checkpoint are Lua scripts, so each is atomic; leases are measured by the Redis server's clock
 * (`TIME`), so pods with skewed clocks agree on who holds a claim. Every key has a TTL: a claimed or
 * checkpointed job lives for the outcome TTL, a done one for the TTL given to `complete`.
 *
 * Cancellations are also published on `<prefix>cancellations`; `onCancel` subscribes on a second
 * connection (a subscribed connection cannot run commands). A notification missed while that
 * connection reconnects is still seen by the next `renew` (which checks the marker).
 */
import { Redis, type ChainableCommander, type RedisOptions } from "ioredis";
import type {
  Cancellation,
  ClaimResult,
  LedgerKey,
  LedgerOutcome,
  LedgerStore,
  RenewResult,
} from "./types.js";
import { decodeJson, DEFAULT_OUTCOME_TTL_MS, encodeJson } from "./types.js";

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS: job, cancel. ARGV: holder, leaseMs, recordTtlMs. */
const CLAIM = `local c = redis.call('GET', KEYS[2])
if c then return {'cancelled', c} end
${NOW_MS}
local f = redis.call('HMGET', KEYS[1], 'state', 'holder', 'leaseUntil', 'outcome', 'checkpoint')
if f[1] == 'done' then return {'done', f[4]} end
local takeover = '0'
if f[1] == 'running' and f[2] ~= ARGV[1] then
  local lease = tonumber(f[3] or '0')
  if lease > now then return {'held', f[2], tostring(lease), tostring(lease - now)} end
  takeover = '1'
end
redis.call('HSET', KEYS[1], 'state', 'running', 'holder', ARGV[1], 'leaseUntil', tostring(now + tonumber(ARGV[2])))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'claimed', f[5] or '', takeover}`;

/** KEYS: job, cancel. ARGV: holder, leaseMs. */
const RENEW = `local c = redis.call('GET', KEYS[2])
if c then return {'cancelled', c} end
local f = redis.call('HMGET', KEYS[1], 'state', 'holder')
if f[1] ~= 'running' or f[2] ~= ARGV[1] then return {'lost'} end
${NOW_MS}
redis.call('HSET', KEYS[1], 'leaseUntil', tostring(now + tonumber(ARGV[2])))
return {'renewed'}`;

/** KEYS: job. ARGV: outcome JSON, ttlMs. */
const COMPLETE = `if redis.call('HGET', KEYS[1], 'state') == 'done' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done', 'outcome', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** KEYS: job. ARGV: holder. */
const RELEASE = `local f = redis.call('HMGET', KEYS[1], 'state', 'holder', 'checkpoint')
if f[1] == 'running' and f[2] == ARGV[1] then
  if f[3] then
    redis.call('HSET', KEYS[1], 'state', 'idle')
    redis.call('HDEL', KEYS[1], 'holder', 'leaseUntil')
  else
    redis.call('DEL', KEYS[1])
  end
end
return 1`;

/** KEYS: job. ARGV: holder, checkpoint JSON. */
const CHECKPOINT = `local f = redis.call('HMGET', KEYS[1], 'state', 'holder')
if f[1] ~= 'running' or f[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[2])
return 1`;

type Reply = (string | null)[];
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

export interface RedisLedgerOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  readonly url: string;
  /** Prefix of every key and of the channel (default `sbw:ledger:`); must not contain `{` or `}`. */
  readonly prefix?: string;
  /** How long the first connection may take before `connect` fails (default 5 s). */
  readonly connectTimeoutMs?: number;
  /**
   * How long one command may wait for Redis' answer (default 5 s). Without a limit, a connection
   * whose packets are dropped (a partition: no reset, no error) holds every claim for good, and
   * with it every delivery of the worker; with one, the claim fails and the message is deferred,
   * as when Redis is down.
   */
  readonly commandTimeoutMs?: number;
  /** Connection errors after start-up (ioredis reconnects by itself); report them. */
  readonly onError?: (error: Error) => void;
}

/** The store could not be reached at start-up. */
export class LedgerUnavailableError extends Error {
  readonly code = "LedgerUnavailable" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LedgerUnavailableError";
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid url)";
  }
}

export class RedisLedgerStore implements LedgerStore {
  private subscriber: Redis | undefined;
  private readonly listeners = new Set<(id: string, c: Cancellation) => void>();
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: RedisLedgerOptions,
  ) {
    for (const [name, lua] of Object.entries({ CLAIM, RENEW, COMPLETE, RELEASE, CHECKPOINT })) {
      redis.defineCommand(`sbwLedger${name}`, {
        lua,
        numberOfKeys: name === "CLAIM" || name === "RENEW" ? 2 : 1,
      });
    }
  }

  /** Connects (failing within `connectTimeoutMs` with a clear message) and returns the store. */
  static async connect(options: RedisLedgerOptions): Promise<RedisLedgerStore> {
    const prefix = options.prefix ?? "sbw:ledger:";
    if (/[{}]/.test(prefix)) throw new TypeError(`ledger key prefix must not contain { or }: ${prefix}`);
    const redis = new Redis(options.url, RedisLedgerStore.clientOptions(options));
    const firstError: { error?: Error } = {};
    const onStartError = (error: Error): void => void (firstError.error ??= error);
    redis.on("error", onStartError);
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      const cause = firstError.error ?? error;
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new LedgerUnavailableError(`cannot reach Redis at ${redactUrl(options.url)}: ${detail}`, {
        cause,
      });
    } finally {
      redis.off("error", onStartError);
    }
    redis.on("error", (error: Error) => options.onError?.(error));
    return new RedisLedgerStore(redis, prefix, options);
  }

  private static clientOptions(options: RedisLedgerOptions): RedisOptions {
    return {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      commandTimeout: options.commandTimeoutMs ?? 5_000,
      // TCP keep-alive probes find a connection a partition killed, so ioredis reconnects.
      keepAlive: 10_000,
      maxRetriesPerRequest: 2,
      // Claims and completions of concurrent handlers share round trips.
      enableAutoPipelining: true,
      // Reconnect forever after start-up, backing off to 2 s; commands fail fast meanwhile.
      retryStrategy: (times) => Math.min(times * 100, 2_000),
    };
  }

  private script(name: string): ScriptFn {
    const fn = (this.redis as unknown as Record<string, ScriptFn | undefined>)[`sbwLedger${name}`];
    if (!fn) throw new Error(`ledger script ${name} is not defined`);
    return fn.bind(this.redis);
  }

  jobKey(key: LedgerKey): string {
    return `${this.prefix}job:${key.scope}:{${key.id}}`;
  }

  private cancelKey(id: string): string {
    return `${this.prefix}cancel:{${id}}`;
  }

  private get channel(): string {
    return `${this.prefix}cancellations`;
  }

  async claim(key: LedgerKey, holder: string, leaseMs: number): Promise<ClaimResult> {
    const reply = (await this.script("CLAIM")(
      this.jobKey(key),
      this.cancelKey(key.id),
      holder,
      Math.ceil(leaseMs),
      DEFAULT_OUTCOME_TTL_MS,
    )) as Reply;
    switch (reply[0]) {
      case "cancelled":
        return { kind: "cancelled", cancellation: decodeJson(reply[1]) as Cancellation };
      case "done":
        return { kind: "done", outcome: decodeJson(reply[1]) as LedgerOutcome };
      case "held":
        return {
          kind: "held",
          holder: reply[1] ?? "",
          leaseExpiresAt: Number(reply[2]),
          remainingMs: Number(reply[3]),
        };
      default:
        return { kind: "claimed", checkpoint: decodeJson(reply[1] || undefined), takeover: reply[2] === "1" };
    }
  }

  async renew(key: LedgerKey, holder: string, leaseMs: number): Promise<RenewResult> {
    const reply = (await this.script("RENEW")(
      this.jobKey(key),
      this.cancelKey(key.id),
      holder,
      Math.ceil(leaseMs),
    )) as Reply;
    if (reply[0] === "cancelled")
      return { kind: "cancelled", cancellation: decodeJson(reply[1]) as Cancellation };
    return reply[0] === "renewed" ? { kind: "renewed" } : { kind: "lost" };
  }

  async complete(
    key: LedgerKey,
    _holder: string,
    outcome: LedgerOutcome,
    ttlMs = DEFAULT_OUTCOME_TTL_MS,
  ): Promise<boolean> {
    const reply = await this.script("COMPLETE")(this.jobKey(key), encodeJson(outcome), Math.ceil(ttlMs));
    return reply === 1;
  }

  /**
   * The outcome hook for a handler whose side effect lives in this same Redis: queue the ledger's
   * "done" write in the handler's own `MULTI`, so side effect and outcome commit together.
   */
  addCompletion(
    multi: ChainableCommander,
    key: LedgerKey,
    outcome: LedgerOutcome,
    ttlMs = DEFAULT_OUTCOME_TTL_MS,
  ): ChainableCommander {
    const job = this.jobKey(key);
    return multi
      .del(job)
      .hset(job, "state", "done", "outcome", encodeJson(outcome))
      .pexpire(job, Math.ceil(ttlMs));
  }

  async release(key: LedgerKey, holder: string): Promise<void> {
    await this.script("RELEASE")(this.jobKey(key), holder);
  }

  async setCheckpoint(key: LedgerKey, holder: string, state: unknown): Promise<boolean> {
    return (await this.script("CHECKPOINT")(this.jobKey(key), holder, encodeJson(state))) === 1;
  }

  async getCheckpoint(key: LedgerKey): Promise<unknown> {
    return decodeJson(await this.redis.hget(this.jobKey(key), "checkpoint"));
  }

  async cancel(id: string, cancellation: Cancellation, ttlMs = DEFAULT_OUTCOME_TTL_MS): Promise<void> {
    const value = encodeJson(cancellation);
    await this.redis
      .multi()
      .set(this.cancelKey(id), value, "PX", Math.ceil(ttlMs))
      .publish(this.channel, encodeJson({ id, cancellation }))
      .exec();
  }

  async cancellation(id: string): Promise<Cancellation | undefined> {
    return decodeJson(await this.redis.get(this.cancelKey(id))) as Cancellation | undefined;
  }

  async clearCancellation(id: string): Promise<void> {
    await this.redis.del(this.cancelKey(id));
  }

  async onCancel(listener: (id: string, cancellation: Cancellation) => void): Promise<() => Promise<void>> {
    if (!this.subscriber) {
      const subscriber = this.redis.duplicate();
      subscriber.on("error", (error: Error) => this.options.onError?.(error));
      subscriber.on("message", (channel: string, text: string) => {
        if (channel !== this.channel) return;
        let event: { id: string; cancellation: Cancellation };
        try {
          event = decodeJson(text) as typeof event;
        } catch (error) {
          this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        for (const l of this.listeners) l(event.id, event.cancellation);
      });
      this.subscriber = subscriber;
      if (subscriber.status === "wait") await subscriber.connect();
      await subscriber.subscribe(this.channel);
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      return Promise.resolve();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await Promise.all(
      [this.subscriber, this.redis].map(async (c) => {
        if (!c) return;
        try {
          await c.quit();
        } catch {
          c.disconnect(); // already disconnected or the server went away: drop the socket
        }
      }),
    );
  }
}
