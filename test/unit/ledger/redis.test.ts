/**
 * The ledger contract against the real Redis server at REDIS_URL (default redis://127.0.0.1:6379).
 * These tests never skip: an unreachable server fails the suite with the reason. Each run uses its
 * own key prefix and deletes its keys afterwards.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { RedisLedgerStore } from "../../../src/worker/ledger/redis.js";
import { deletePrefix, REDIS_URL } from "../../helpers/redis.js";
import { ledgerContract } from "./contract.js";

const prefix = `sbw-test:${randomUUID().slice(0, 8)}:`;
const opened: RedisLedgerStore[] = [];

describe("ledger: redis", () => {
  after(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await deletePrefix(REDIS_URL, prefix);
  });

  ledgerContract(`redis (${REDIS_URL})`, async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    const store = await RedisLedgerStore.connect({ url: REDIS_URL, prefix, connectTimeoutMs: 2_000 }).catch(
      (error: unknown) => {
        throw new Error(
          `the Redis ledger tests need a Redis server at ${REDIS_URL} (set REDIS_URL, or start one: .ci/run starts it): ${String(error)}`,
        );
      },
    );
    opened.push(store);
    return { store, advance: (ms: number) => sleep(ms) };
  });
});

describe("ledger: redis specifics", () => {
  const specific = `${prefix}x:`;
  const stores: RedisLedgerStore[] = [];
  const connect = async (): Promise<RedisLedgerStore> => {
    const store = await RedisLedgerStore.connect({ url: REDIS_URL, prefix: specific });
    stores.push(store);
    return store;
  };
  after(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await deletePrefix(REDIS_URL, specific);
  });

  it("fails to connect with a clear message naming the (redacted) URL", async () => {
    await assert.rejects(
      RedisLedgerStore.connect({ url: "redis://user:secret@127.0.0.1:1", connectTimeoutMs: 500 }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "LedgerUnavailable");
        assert.match(error.message, /cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1/);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
  });

  it("tells a worker on another connection of a cancellation at once", async () => {
    const [a, b] = [await connect(), await connect()];
    const heard = new Promise<string>((resolve) => void b.onCancel((id) => resolve(id)));
    await sleep(20); // let the subscription reach the server
    await a.cancel("remote-job", { reason: "r", requestedAt: 1 });
    assert.equal(await heard, "remote-job");
  });

  it("offers the outcome write for the handler's own MULTI (side effect and outcome commit together)", async () => {
    const store = await connect();
    const key = { scope: "jobs/work", id: "tx-job" };
    await store.claim(key, "a", 10_000);
    const redis = new Redis(REDIS_URL);
    try {
      const multi = redis.multi().set(`${specific}side-effect`, "written");
      await store.addCompletion(multi, key, { status: "succeeded", at: 1, holder: "a" }).exec();
      assert.deepEqual(await store.claim(key, "b", 10_000), {
        kind: "done",
        outcome: { status: "succeeded", at: 1, holder: "a" },
      });
      assert.equal(await redis.get(`${specific}side-effect`), "written");
    } finally {
      await redis.quit();
    }
  });
});
