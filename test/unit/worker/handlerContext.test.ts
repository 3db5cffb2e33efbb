import assert from "node:assert/strict";
import { pino } from "pino";
import type { MessageMetadata, SessionAccess } from "../../../src/handlers/registry.js";
import type { PublishOptions } from "../../../src/publisher/index.js";
import type { DispatchTarget } from "../../../src/worker/dispatch.js";
import { DeliveryContext } from "../../../src/worker/handlerContext.js";
import { LazyAbortController } from "../../../src/worker/lazyAbort.js";
import { PROPERTY } from "../../../src/worker/properties.js";

const metadata: MessageMetadata = {
  messageId: "m1",
  correlationId: "corr",
  causationId: undefined,
  sessionId: undefined,
  deliveryCount: 0,
  enqueuedTimeUtc: undefined,
  subject: "Job",
  applicationProperties: {},
};

function target(published: unknown[]): DispatchTarget {
  return {
    binding: { topic: "jobs", subscription: "work" },
    log: pino({ level: "silent" }),
    publisher: {
      publish: (topic: string, subject: string, payload: unknown, options?: PublishOptions) => {
        published.push({ topic, subject, payload, options });
        return Promise.resolve({ messageId: "x" });
      },
    },
  } as unknown as DispatchTarget;
}

describe("worker: the handler ctx", () => {
  it("works destructured: publish carries correlation and causation, heartbeat and checkpoint reach the job", async () => {
    const published: unknown[] = [];
    const beats: unknown[] = [];
    const ctx = new DeliveryContext(
      target(published),
      metadata,
      2,
      new LazyAbortController(),
      {
        idempotencyKey: "k",
        resumeFrom: { step: 1 },
        heartbeat: (p) => beats.push(p),
        checkpoint: () => Promise.resolve(),
      },
      undefined,
    );
    const { publish, heartbeat, log, idempotencyKey, resumeFrom, attempt, topic, subscription } = ctx;
    await publish("mail", "Send", { to: "a" });
    heartbeat("half");
    assert.deepEqual(published, [
      {
        topic: "mail",
        subject: "Send",
        payload: { to: "a" },
        options: { correlationId: "corr", applicationProperties: { [PROPERTY.causationId]: "m1" } },
      },
    ]);
    assert.deepEqual(beats, ["half"]);
    assert.equal(typeof log.info, "function");
    assert.strictEqual(ctx.log, log, "one child logger per attempt");
    assert.deepEqual(
      [idempotencyKey, resumeFrom, attempt, topic, subscription],
      ["k", { step: 1 }, 2, "jobs", "work"],
    );
    assert.equal("session" in ctx, false, "no session on a plain subscription");
  });

  it("hands out the abort's signal, and falls back to the message id without a job", async () => {
    const abort = new LazyAbortController();
    const session = { id: "s" } as SessionAccess<unknown>;
    const ctx = new DeliveryContext(target([]), metadata, 1, abort, undefined, session);
    const signal = ctx.signal;
    abort.abort(new Error("stop"));
    assert.equal(signal.aborted, true);
    assert.strictEqual(ctx.signal, signal);
    assert.equal(ctx.idempotencyKey, "m1");
    assert.strictEqual(ctx.session, session);
    await ctx.checkpoint({});
    ctx.heartbeat();
  });
});
