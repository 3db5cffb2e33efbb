import assert from "node:assert/strict";
import {
  flushDue,
  initialThrottle,
  offerProgress,
  type ThrottleState,
} from "../../../src/worker/jobs/throttle.js";

describe("jobs: progress throttle", () => {
  const interval = 1_000;

  it("sends the first progress at once", () => {
    const step = offerProgress(initialThrottle<number>(), 1, 0, interval);
    assert.deepEqual(step.send, { progress: 1 });
    assert.equal(step.wakeAt, undefined);
  });

  it("holds back progress within the interval and asks to wake at its end, once", () => {
    let state: ThrottleState<number> = offerProgress(initialThrottle<number>(), 1, 0, interval).state;
    const second = offerProgress(state, 2, 100, interval);
    assert.equal(second.send, undefined);
    assert.equal(second.wakeAt, 1_000);
    state = second.state;
    const third = offerProgress(state, 3, 200, interval);
    assert.equal(third.send, undefined);
    assert.equal(third.wakeAt, undefined, "a wake-up is already pending");
    assert.deepEqual(flushDue(third.state, 1_000, interval).send, { progress: 3 }, "the latest wins");
  });

  it("sends at once again after the interval has passed", () => {
    const state = offerProgress(initialThrottle<number>(), 1, 0, interval).state;
    assert.deepEqual(offerProgress(state, 2, 1_000, interval).send, { progress: 2 });
  });

  it("sends nothing on a wake-up without pending progress, and re-arms an early one", () => {
    const state = offerProgress(initialThrottle<number>(), 1, 0, interval).state;
    assert.equal(flushDue(state, 2_000, interval).send, undefined);
    const pending = offerProgress(state, 2, 10, interval).state;
    assert.deepEqual(flushDue(pending, 500, interval), { state: pending, wakeAt: 1_000 });
  });

  it("caps a stream of reports at one per interval", () => {
    let state = initialThrottle<number>();
    let sent = 0;
    for (let t = 0; t < 10_000; t += 10) {
      const step = offerProgress(state, t, t, interval);
      state = step.state;
      if (step.send) sent += 1;
    }
    assert.equal(sent, 10);
  });
});
