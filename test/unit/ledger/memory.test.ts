import assert from "node:assert/strict";
import { MemoryLedgerStore } from "../../../src/worker/ledger/memory.js";
import { ledgerContract } from "./contract.js";

ledgerContract("memory", () => {
  let now = 1_700_000_000_000;
  const store = new MemoryLedgerStore({ now: () => now });
  return Promise.resolve({
    store,
    advance: (ms: number) => {
      now += ms;
      return Promise.resolve();
    },
  });
});

describe("ledger: memory specifics", () => {
  it("stays bounded: beyond maxEntries the oldest finished jobs are dropped, running ones kept", async () => {
    const store = new MemoryLedgerStore({ maxEntries: 10 });
    const key = (i: number) => ({ scope: "s", id: `k${i}` });
    await store.claim(key(0), "running", 60_000);
    for (let i = 1; i < 30; i += 1) {
      await store.claim(key(i), "h", 60_000);
      await store.complete(key(i), "h", { status: "succeeded", at: 0, holder: "h" });
    }
    assert.equal((await store.claim(key(0), "other", 60_000)).kind, "held", "the running job survived");
    assert.equal((await store.claim(key(29), "other", 60_000)).kind, "done", "the newest outcome survived");
    assert.equal(
      (await store.claim(key(1), "other", 60_000)).kind,
      "claimed",
      "the oldest outcome was dropped",
    );
  });

  it("evicts the oldest outcomes across scopes, not one scope's", async () => {
    let now = 1_000;
    const store = new MemoryLedgerStore({ maxEntries: 20, now: () => now });
    const done = async (scope: string, id: string) => {
      now += 1;
      await store.claim({ scope, id }, "h", 60_000);
      await store.complete({ scope, id }, "h", { status: "succeeded", at: now, holder: "h" });
    };
    for (let i = 0; i < 15; i += 1) await done("a", `a${i}`);
    for (let i = 0; i < 10; i += 1) await done("b", `b${i}`);
    const kind = async (scope: string, id: string) => (await store.claim({ scope, id }, "x", 60_000)).kind;
    assert.equal(await kind("a", "a0"), "claimed", "the oldest outcome, in scope a, was dropped");
    assert.equal(await kind("b", "b0"), "done", "scope b's older entries outlived a's oldest");
    assert.equal(await kind("a", "a14"), "done");
  });

  it("evicts by expiry, not by insertion: the outcome that would expire first goes first", async () => {
    const now = 1_000;
    const store = new MemoryLedgerStore({ maxEntries: 10, now: () => now });
    const key = (i: number) => ({ scope: "s", id: `k${i}` });
    // k0 was written first but is kept longest; k8 was written last and expires first.
    for (let i = 0; i < 9; i += 1) {
      await store.claim(key(i), "h", 60_000);
      await store.complete(key(i), "h", { status: "succeeded", at: now, holder: "h" }, 20_000 - i * 1_000);
    }
    await store.claim(key(9), "h", 60_000); // running: never evicted
    await store.claim(key(10), "h", 60_000); // full: one must go
    for (let i = 0; i < 8; i += 1)
      assert.equal((await store.claim(key(i), "other", 60_000)).kind, "done", `k${i} kept`);
    assert.equal((await store.claim(key(9), "other", 60_000)).kind, "held");
    assert.equal(
      (await store.claim(key(8), "other", 60_000)).kind,
      "claimed",
      "k8, the first to expire, went",
    );
  });
});
