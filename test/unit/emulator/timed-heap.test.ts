import assert from "node:assert/strict";
import { TimedHeap } from "../../../src/emulator/broker/timed-heap.js";
import { ManualClock } from "../../../src/emulator/clock.js";

describe("TimedHeap", () => {
  interface Item {
    name: string;
    at: number;
  }

  function setup() {
    const clock = new ManualClock(0);
    const taken: string[] = [];
    const armed: number[] = [];
    const timed = {
      now: () => clock.now(),
      setTimer: (at: number, fn: () => void) => {
        armed.push(at);
        return clock.setTimer(at, fn);
      },
    };
    const heap: TimedHeap<Item> = new TimedHeap<Item>(
      timed,
      (i) => i.at,
      () => heap.takeDue(clock.now(), (i) => taken.push(i.name)),
    );
    return { clock, heap, taken, armed };
  }

  it("hands items over when they fall due, earliest first", () => {
    const { clock, heap, taken } = setup();
    heap.add({ name: "c", at: 300 });
    heap.add({ name: "a", at: 100 });
    heap.add({ name: "b", at: 100 });
    clock.advance(99);
    assert.deepEqual(taken, []);
    clock.advance(1);
    assert.deepEqual(taken.sort(), ["a", "b"]);
    clock.advance(200);
    assert.deepEqual(taken, ["a", "b", "c"]);
  });

  it("keeps one timer, re-armed only for an earlier item", () => {
    const { heap, armed } = setup();
    heap.add({ name: "late", at: 500 });
    heap.add({ name: "later", at: 900 });
    heap.add({ name: "early", at: 200 });
    assert.deepEqual(armed, [500, 200]);
  });

  it("takeDue between timers takes only what is due, and close cancels the timer", () => {
    const { clock, heap, taken } = setup();
    heap.add({ name: "a", at: 100 });
    heap.add({ name: "b", at: 200 });
    const early: string[] = [];
    heap.takeDue(150, (i) => early.push(i.name));
    assert.deepEqual(early, ["a"]);
    heap.close();
    clock.advance(1_000);
    assert.deepEqual(taken, []);
  });
});
