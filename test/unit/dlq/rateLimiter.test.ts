import assert from "node:assert/strict";
import { RateLimiter, type LimiterClock } from "../../../src/cli/dlq/rateLimiter.js";

/** A clock whose sleeps advance time instantly and are recorded. */
function fakeClock(): LimiterClock & { sleeps: number[]; t: number } {
  const clock = {
    t: 1_000,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

describe("dlq rate limiter", () => {
  it("does not wait without a rate", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(undefined, clock);
    for (let i = 0; i < 5; i += 1) await limiter.acquire();
    assert.deepEqual(clock.sleeps, []);
  });

  it("spaces slots evenly: the first at once, then every 1/rate seconds", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(4, clock);
    for (let i = 0; i < 4; i += 1) await limiter.acquire();
    assert.deepEqual(clock.sleeps, [250, 250, 250]);
    assert.equal(clock.t, 1_750);
  });

  it("does not bank unused time as a burst", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(10, clock);
    await limiter.acquire();
    clock.t += 5_000; // idle
    await limiter.acquire();
    await limiter.acquire();
    assert.deepEqual(clock.sleeps, [100]);
  });

  it("reserves slots in call order for concurrent callers", async () => {
    const clock = fakeClock();
    const waits: number[] = [];
    clock.sleep = (ms) => {
      waits.push(ms);
      return Promise.resolve();
    };
    const limiter = new RateLimiter(2, clock);
    await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    assert.deepEqual(waits, [500, 1000]);
  });

  it("rejects when the signal aborts while waiting", async () => {
    const clock = fakeClock();
    clock.sleep = (_ms, signal) => Promise.reject(signal?.reason as Error);
    const limiter = new RateLimiter(1, clock);
    await limiter.acquire();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(limiter.acquire(controller.signal), /stop/);
  });
});
