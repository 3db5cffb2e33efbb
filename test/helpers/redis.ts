/** The Redis server the ledger tests use (they fail, never skip, when it is unreachable). */
import { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Every key matching `pattern`, page by page (SCAN, not KEYS: the server may be shared). */
export async function* scanKeys(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== "0");
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const keys of scanKeys(redis, `${prefix}*`)) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
