/**
 * Lock renewal timing and failure handling, on Node's mocked timers (no waiting).
 */
import assert from "node:assert/strict";
import { mock } from "node:test";
import { ServiceBusError } from "@azure/service-bus";
import { startLockRenewal, type LockRenewalOptions } from "../../../src/worker/lockRenewal.js";

describe("lock renewal", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 }));
  afterEach(() => mock.timers.reset());

  /** Lets the renewal's promise callbacks run after a timer fired. */
  async function tick(ms: number): Promise<void> {
    mock.timers.tick(ms);
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  }

  function harness(renew: () => Promise<Date | undefined>, extra: Partial<LockRenewalOptions> = {}) {
    let lockedUntil = new Date(30_000);
    const calls: number[] = [];
    const lost: unknown[] = [];
    const errors: unknown[] = [];
    const renewal = startLockRenewal({
      lockedUntil: () => lockedUntil,
      renew: async () => {
        calls.push(Date.now());
        const until = await renew();
        if (until) lockedUntil = until;
        return until;
      },
      maxRenewalMs: Number.POSITIVE_INFINITY,
      onLost: (e) => lost.push(e),
      onError: (e) => errors.push(e),
      ...extra,
    });
    return { renewal, calls, lost, errors };
  }

  it("renews with min(remaining / 2, 10 s) left, and again after each renewal", async () => {
    const h = harness(() => Promise.resolve(new Date(Date.now() + 30_000)));
    await tick(19_999);
    assert.deepEqual(h.calls, []);
    await tick(1);
    assert.deepEqual(h.calls, [20_000]);
    await tick(20_000);
    assert.deepEqual(h.calls, [20_000, 40_000]);
    h.renewal.stop();
  });

  it("aborts `lost` with the broker's error on MessageLockLost and stops", async () => {
    const error = new ServiceBusError("gone", "MessageLockLost");
    const h = harness(() => Promise.reject(error));
    await tick(20_000);
    assert.equal(h.renewal.lost.aborted, true);
    assert.equal(h.renewal.lost.reason, error);
    assert.deepEqual(h.lost, [error]);
    await tick(60_000);
    assert.equal(h.calls.length, 1, "no renewal after the lock was lost");
  });

  it("also takes a lost lock from the last attempt of the SDK's AggregateError", async () => {
    const error = new AggregateError([
      new ServiceBusError("timed out", "ServiceTimeout"),
      new ServiceBusError("gone", "SessionLockLost"),
    ]);
    const h = harness(() => Promise.reject(error));
    await tick(20_000);
    assert.equal(h.renewal.lost.aborted, true);
    assert.deepEqual([h.lost, h.errors], [[error], []]);
  });

  it("retries another failure every second while the lock may still be held", async () => {
    let fail = 3;
    const h = harness(() =>
      fail-- > 0 ? Promise.reject(new Error("timeout")) : Promise.resolve(new Date(Date.now() + 30_000)),
    );
    await tick(20_000);
    await tick(1_000);
    await tick(1_000);
    await tick(1_000);
    assert.deepEqual(h.calls, [20_000, 21_000, 22_000, 23_000]);
    assert.equal(h.errors.length, 3);
    assert.equal(h.renewal.lost.aborted, false);
    h.renewal.stop();
  });

  it("declares the lock lost when renewals keep failing until it has run out by our clock", async () => {
    const error = new Error("connection down");
    const h = harness(() => Promise.reject(error));
    await tick(20_000);
    for (let i = 0; i < 14; i += 1) await tick(1_000);
    assert.equal(h.renewal.lost.aborted, true, "a handler must not run on after its lock is gone");
    assert.equal(h.renewal.lost.reason, error);
    assert.ok(h.calls.at(-1)! >= 32_000, `last attempt at ${h.calls.at(-1)}`);
    const attempts = h.calls.length;
    await tick(10_000);
    assert.equal(h.calls.length, attempts);
  });

  it("stops when the gate says so (a stalled handler lets the lock run out)", async () => {
    const h = harness(() => Promise.resolve(new Date(Date.now() + 30_000)), { shouldRenew: () => false });
    await tick(60_000);
    assert.deepEqual(h.calls, []);
    assert.equal(h.renewal.lost.aborted, false);
  });

  it("stop() during a renewal in flight: no report of it, and no renewal after", async () => {
    let answer: (until: Date) => void = () => {};
    const renewed: number[] = [];
    const h = harness(() => new Promise<Date>((resolve) => (answer = resolve)), {
      onRenewed: () => renewed.push(Date.now()),
    });
    await tick(20_000);
    assert.deepEqual(h.calls, [20_000]);
    h.renewal.stop();
    answer(new Date(Date.now() + 30_000));
    await tick(60_000);
    assert.deepEqual(h.calls, [20_000], "the settled message's lock is not renewed again");
    assert.deepEqual(renewed, []);
  });

  it("renews within maxRenewalMs and then lets the lock run out", async () => {
    const h = harness(() => Promise.resolve(new Date(Date.now() + 30_000)), { maxRenewalMs: 40_000 });
    await tick(20_000);
    await tick(20_000);
    assert.deepEqual(h.calls, [20_000, 40_000], "a renewal due at the budget's end still happens");
    await tick(60_000);
    assert.deepEqual(h.calls, [20_000, 40_000]);
    assert.equal(h.renewal.lost.aborted, false, "running out of budget is not a lost lock");
  });
});
