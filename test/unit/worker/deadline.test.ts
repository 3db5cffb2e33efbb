import assert from "node:assert/strict";
import { finishedWithin, settledOrAborted, withDeadline } from "../../../src/worker/deadline.js";

const never = new Promise<never>(() => {});
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("deadline: bounded waits", () => {
  describe("withDeadline", () => {
    it("passes the call's outcome through when it comes first", async () => {
      assert.equal(await withDeadline(Promise.resolve(7), 1_000, () => new Error("late")), 7);
      await assert.rejects(
        withDeadline(Promise.reject(new Error("boom")), 1_000, () => new Error("late")),
        /boom/,
      );
    });

    it("rejects with onTimeout() once the time has passed", async () => {
      await assert.rejects(
        withDeadline(never, 5, () => new Error("late")),
        /late/,
      );
    });

    it("returns the call itself when no time is given", () => {
      const call = Promise.resolve(1);
      assert.equal(
        withDeadline(call, undefined, () => new Error("late")),
        call,
      );
    });
  });

  describe("finishedWithin", () => {
    it("is true when the call finishes in time, and passes a failure in time on", async () => {
      assert.equal(await finishedWithin(Promise.resolve(), 1_000), true);
      assert.equal(await finishedWithin(Promise.resolve(), undefined), true);
      await assert.rejects(finishedWithin(Promise.reject(new Error("boom")), 1_000), /boom/);
    });

    it("is false once the time has passed, and ignores a late failure", async () => {
      let fail: (e: Error) => void = () => {};
      const call = new Promise<void>((_, reject) => (fail = reject));
      assert.equal(await finishedWithin(call, 5), false);
      fail(new Error("late")); // handled by the race: no unhandled rejection
      await tick();
    });
  });

  describe("settledOrAborted", () => {
    it("is true when the call settles first, resolved or rejected", async () => {
      const ac = new AbortController();
      assert.equal(await settledOrAborted(Promise.resolve(), ac.signal), true);
      assert.equal(await settledOrAborted(Promise.reject(new Error("x")), ac.signal), true);
      assert.equal(await settledOrAborted(Promise.resolve(), undefined), true);
    });

    it("is false as soon as the signal aborts, while the call goes on", async () => {
      const ac = new AbortController();
      let result: boolean | undefined;
      void settledOrAborted(never, ac.signal).then((r) => (result = r));
      await tick();
      assert.equal(result, undefined, "waits while neither has happened");
      ac.abort();
      await tick();
      assert.equal(result, false);
    });

    it("is false at once for a signal aborted before the wait", async () => {
      const ac = new AbortController();
      ac.abort();
      assert.equal(await settledOrAborted(never, ac.signal), false);
    });
  });
});
