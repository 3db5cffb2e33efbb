import assert from "node:assert/strict";
import type { ServiceBusSessionReceiver } from "@azure/service-bus";
import { z } from "zod";
import {
  CHECKPOINT_PROPERTY,
  join,
  SessionCheckpoints,
  split,
} from "../../../src/worker/jobs/sessionCheckpoint.js";
import { sessionAccess } from "../../../src/worker/sessionState.js";

/** A session receiver's state, stored as the SDK returns what the worker wrote (JSON in a Buffer). */
function fakeReceiver(initial?: unknown) {
  let stored: Buffer | null = initial === undefined ? null : Buffer.from(JSON.stringify(initial));
  return {
    sessionId: "s-1",
    getSessionState: () => Promise.resolve(stored),
    setSessionState: (state: unknown) => {
      stored = state === null ? null : Buffer.from(JSON.stringify(state));
      return Promise.resolve();
    },
    get raw(): unknown {
      return stored === null ? undefined : (JSON.parse(stored.toString("utf8")) as unknown);
    },
  };
}

describe("jobs: checkpoints in session state", () => {
  it("splits the checkpoint from the handler's state and joins it back", () => {
    const checkpoint = { jobId: "j", state: { next: 2 } };
    const joined = join({ status: "paid" }, checkpoint);
    assert.deepEqual(joined, { status: "paid", [CHECKPOINT_PROPERTY]: checkpoint });
    assert.deepEqual(split(joined), { state: { status: "paid" }, checkpoint });
    assert.deepEqual(split(join(undefined, checkpoint)), { state: undefined, checkpoint });
    assert.deepEqual(split("plain"), { state: "plain", checkpoint: undefined });
    assert.throws(() => join("not an object", checkpoint), TypeError);
  });

  it("saves, loads (for the same job only) and clears a checkpoint, keeping the handler's state", async () => {
    const receiver = fakeReceiver({ status: "paid" });
    const mine = new SessionCheckpoints(receiver, "job-1");
    assert.equal(await mine.save({ next: 3 }), true);
    assert.deepEqual(receiver.raw, {
      status: "paid",
      [CHECKPOINT_PROPERTY]: { jobId: "job-1", state: { next: 3 } },
    });
    assert.deepEqual(await new SessionCheckpoints(receiver, "job-1").load(), { next: 3 });
    assert.equal(
      await new SessionCheckpoints(receiver, "job-2").load(),
      undefined,
      "another job's checkpoint",
    );
    await mine.clear();
    assert.deepEqual(receiver.raw, { status: "paid" });
  });

  it("hides the checkpoint from ctx.session and keeps it across ctx.session.setState", async () => {
    const receiver = fakeReceiver();
    const checkpoints = new SessionCheckpoints(receiver, "job-1");
    await checkpoints.save({ next: 1 });
    const access = sessionAccess(
      receiver as unknown as ServiceBusSessionReceiver,
      z.object({ status: z.string() }).strict(),
      checkpoints,
    );
    assert.equal(await access.getState(), undefined, "only a checkpoint is stored");
    await access.setState({ status: "placed" });
    assert.deepEqual(await access.getState(), { status: "placed" });
    assert.deepEqual(await new SessionCheckpoints(receiver, "job-1").load(), { next: 1 });
  });
});
