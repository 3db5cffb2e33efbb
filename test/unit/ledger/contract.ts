/**
 * The ledger contract: one suite, run against every `LedgerStore` (memory.test.ts, redis.test.ts).
 * `advance(ms)` moves the store's clock: a fake clock for memory, real time for Redis (whose leases
 * follow the server's clock), so lease and TTL cases use short times.
 */
import assert from "node:assert/strict";
import type { LedgerKey, LedgerOutcome, LedgerStore } from "../../../src/worker/ledger/types.js";

export interface ContractHarness {
  readonly store: LedgerStore;
  advance(ms: number): Promise<void>;
}

export function ledgerContract(name: string, open: () => Promise<ContractHarness>): void {
  describe(`ledger contract: ${name}`, () => {
    let h: ContractHarness;
    let store: LedgerStore;
    let n = 0;
    let key: LedgerKey;
    const outcome = (holder: string): LedgerOutcome => ({
      status: "succeeded",
      at: 1_700_000_000_000,
      holder,
    });

    beforeEach(async () => {
      h = await open();
      store = h.store;
      n += 1;
      key = { scope: "jobs/work", id: `job-${n}` };
    });

    it("claims a fresh key, with no checkpoint and no takeover", async () => {
      assert.deepEqual(await store.claim(key, "a", 10_000), {
        kind: "claimed",
        checkpoint: undefined,
        takeover: false,
      });
    });

    it("reports a key claimed by a live holder as held, with the lease's remaining time", async () => {
      await store.claim(key, "a", 10_000);
      const held = await store.claim(key, "b", 10_000);
      assert.equal(held.kind, "held");
      if (held.kind !== "held") return;
      assert.equal(held.holder, "a");
      assert.ok(held.remainingMs > 8_000 && held.remainingMs <= 10_000, String(held.remainingMs));
      assert.ok(held.leaseExpiresAt > 0);
    });

    it("lets the same holder claim again (an idempotent retry of the claim)", async () => {
      await store.claim(key, "a", 10_000);
      assert.equal((await store.claim(key, "a", 10_000)).kind, "claimed");
    });

    it("takes over a claim whose lease expired, and the old holder's renewal is lost", async () => {
      await store.claim(key, "a", 100);
      await h.advance(250);
      assert.deepEqual(await store.claim(key, "b", 10_000), {
        kind: "claimed",
        checkpoint: undefined,
        takeover: true,
      });
      assert.deepEqual(await store.renew(key, "a", 10_000), { kind: "lost" });
      assert.deepEqual(await store.renew(key, "b", 10_000), { kind: "renewed" });
    });

    it("keeps a renewed claim held past its first lease", async () => {
      await store.claim(key, "a", 300);
      await h.advance(150);
      assert.deepEqual(await store.renew(key, "a", 10_000), { kind: "renewed" });
      await h.advance(300);
      assert.equal((await store.claim(key, "b", 10_000)).kind, "held");
    });

    it("records the outcome: the key is done for every holder, and a second complete reports false", async () => {
      await store.claim(key, "a", 10_000);
      assert.equal(await store.complete(key, "a", outcome("a")), true);
      assert.deepEqual(await store.claim(key, "b", 10_000), { kind: "done", outcome: outcome("a") });
      assert.equal(await store.complete(key, "b", outcome("b")), false);
      assert.deepEqual(await store.renew(key, "a", 10_000), { kind: "lost" });
    });

    it("records the outcome even after the lease was lost (the handler did run)", async () => {
      await store.claim(key, "a", 100);
      await h.advance(250);
      await store.claim(key, "b", 10_000);
      assert.equal(await store.complete(key, "a", outcome("a")), true);
      assert.equal((await store.claim(key, "c", 10_000)).kind, "done");
    });

    it("forgets an outcome after its TTL", async () => {
      await store.claim(key, "a", 10_000);
      await store.complete(key, "a", outcome("a"), 100);
      await h.advance(250);
      assert.equal((await store.claim(key, "b", 10_000)).kind, "claimed");
    });

    it("releases a claim at once for another holder, keeping the checkpoint", async () => {
      await store.claim(key, "a", 10_000);
      assert.equal(await store.setCheckpoint(key, "a", { chunk: 3, rows: [1, 2] }), true);
      await store.release(key, "a");
      assert.deepEqual(await store.claim(key, "b", 10_000), {
        kind: "claimed",
        checkpoint: { chunk: 3, rows: [1, 2] },
        takeover: false,
      });
    });

    it("ignores a release by a holder that no longer holds the claim", async () => {
      await store.claim(key, "a", 100);
      await h.advance(250);
      await store.claim(key, "b", 10_000);
      await store.release(key, "a");
      assert.equal((await store.claim(key, "c", 10_000)).kind, "held");
    });

    it("saves a checkpoint only for the current holder, and clears it on complete", async () => {
      assert.equal(await store.setCheckpoint(key, "a", 1), false, "not claimed");
      await store.claim(key, "a", 10_000);
      assert.equal(await store.setCheckpoint(key, "b", 2), false, "not the holder");
      assert.equal(await store.setCheckpoint(key, "a", { next: 4 }), true);
      assert.deepEqual(await store.getCheckpoint(key), { next: 4 });
      await store.complete(key, "a", outcome("a"));
      assert.equal(await store.getCheckpoint(key), undefined);
    });

    it("hands the checkpoint to the holder that takes over an expired claim", async () => {
      await store.claim(key, "a", 100);
      await store.setCheckpoint(key, "a", "half");
      await h.advance(250);
      assert.deepEqual(await store.claim(key, "b", 10_000), {
        kind: "claimed",
        checkpoint: "half",
        takeover: true,
      });
    });

    it("keeps scopes apart: the same id in two subscriptions is two jobs", async () => {
      await store.claim(key, "a", 10_000);
      await store.complete(key, "a", outcome("a"));
      assert.equal((await store.claim({ scope: "jobs/other", id: key.id }, "b", 10_000)).kind, "claimed");
    });

    it("grants exactly one of many concurrent claims", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.claim(key, `h${i}`, 10_000)),
      );
      assert.equal(results.filter((r) => r.kind === "claimed").length, 1);
      assert.equal(results.filter((r) => r.kind === "held").length, 19);
    });

    it("reports a cancellation to claims in every scope and to the holder's renewal", async () => {
      await store.claim(key, "a", 10_000);
      const cancellation = { reason: "user request", requestedAt: 1_700_000_000_000 };
      await store.cancel(key.id, cancellation);
      assert.deepEqual(await store.renew(key, "a", 10_000), { kind: "cancelled", cancellation });
      assert.deepEqual(await store.claim({ scope: "jobs/other", id: key.id }, "b", 10_000), {
        kind: "cancelled",
        cancellation,
      });
      assert.deepEqual(await store.cancellation(key.id), cancellation);
      await store.clearCancellation(key.id);
      assert.equal(await store.cancellation(key.id), undefined);
    });

    it("forgets a cancellation after its TTL", async () => {
      await store.cancel(key.id, { reason: "x", requestedAt: 1 }, 100);
      await h.advance(250);
      assert.equal(await store.cancellation(key.id), undefined);
      assert.equal((await store.claim(key, "a", 10_000)).kind, "claimed");
    });

    it("notifies onCancel listeners, and stops after unsubscribing", async () => {
      const heard: string[] = [];
      let wake: () => void = () => {};
      const first = new Promise<void>((resolve) => (wake = resolve));
      const unsubscribe = await store.onCancel((id, c) => {
        heard.push(`${id}:${c.reason}`);
        wake();
      });
      await store.cancel(key.id, { reason: "stop", requestedAt: 1 });
      await first;
      assert.deepEqual(heard, [`${key.id}:stop`]);
      await unsubscribe();
      await store.cancel(`${key.id}-2`, { reason: "stop", requestedAt: 1 });
      await h.advance(50);
      assert.deepEqual(heard, [`${key.id}:stop`]);
    });

    it("refuses a checkpoint that is not JSON", async () => {
      await store.claim(key, "a", 10_000);
      await assert.rejects(async () => store.setCheckpoint(key, "a", undefined), TypeError);
    });
  });
}
