import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { createContextKey, ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { PromiseContextManager } from "../../../src/telemetry/promiseContext.js";

const KEY = createContextKey("test");
const ctx = (value: string): Context => ROOT_CONTEXT.setValue(KEY, value);

describe("telemetry: PromiseContextManager (SBW_TRACE_CONTEXT=promise)", () => {
  let m: PromiseContextManager;
  const seen = (): unknown => m.active().getValue(KEY);

  beforeEach(() => (m = new PromiseContextManager().enable()));
  afterEach(() => m.disable());

  it("is the root outside `with`, and restores the previous context after it, thrown or not", () => {
    assert.equal(m.active(), ROOT_CONTEXT);
    const result = m.with(
      ctx("a"),
      (x: number, y: number) => {
        assert.equal(seen(), "a");
        m.with(ctx("b"), () => assert.equal(seen(), "b"));
        assert.equal(seen(), "a");
        assert.throws(() => m.with(ctx("c"), () => assert.fail("boom")));
        assert.equal(seen(), "a");
        return x + y;
      },
      undefined,
      1,
      2,
    );
    assert.equal(result, 3);
    assert.equal(m.active(), ROOT_CONTEXT);
  });

  it("passes thisArg", () => {
    const target = { name: "t" };
    const name = m.with(
      ctx("a"),
      function (this: typeof target) {
        return this.name;
      },
      target,
    );
    assert.equal(name, "t");
  });

  it("follows await, then-chains, Promise.all, thenables, async iterators and rejections", async () => {
    const trail: unknown[] = [];
    const job = async (): Promise<void> => {
      await Promise.resolve();
      trail.push(seen());
      await sleep(2);
      trail.push(seen());
      trail.push(await Promise.resolve().then(() => seen()));
      await Promise.all([
        sleep(1),
        (async () => {
          await sleep(2);
          trail.push(seen());
        })(),
      ]);
      trail.push(seen());
      await { then: (resolve: (v: number) => void) => setTimeout(() => resolve(1), 1) };
      trail.push(seen());
      for await (const _ of (async function* () {
        yield 1;
        await sleep(1);
        yield 2;
      })())
        trail.push(seen());
      try {
        await Promise.reject(new Error("x"));
      } catch {
        trail.push(seen());
      }
    };
    await m.with(ctx("a"), job);
    assert.deepEqual(trail, Array(9).fill("a"));
    assert.equal(m.active(), ROOT_CONTEXT);
  });

  it("keeps concurrent jobs apart, also when they await the same promise made in the root", async () => {
    let release!: () => void;
    const shared = new Promise<void>((resolve) => (release = resolve));
    const trails: Record<string, unknown[]> = { a: [], b: [], c: [] };
    const job = async (name: string): Promise<void> => {
      await sleep(name === "a" ? 3 : 1);
      trails[name]!.push(seen());
      await shared;
      trails[name]!.push(seen());
      trails[name]!.push(await shared.then(() => seen()));
    };
    const all = Promise.all(["a", "b", "c"].map((name) => m.with(ctx(name), () => job(name))));
    setTimeout(release, 5);
    await all;
    assert.deepEqual(trails, { a: ["a", "a", "a"], b: ["b", "b", "b"], c: ["c", "c", "c"] });
  });

  it("leaves callbacks scheduled without a promise in the root unless bound (the documented limit)", async () => {
    const seenBy: Record<string, unknown> = {};
    await m.with(ctx("a"), async () => {
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          seenBy.timer = seen();
          resolve();
        }, 1),
      );
      await new Promise<void>((resolve) =>
        setTimeout(
          m.bind(m.active(), () => {
            seenBy.bound = seen();
            resolve();
          }),
          1,
        ),
      );
      seenBy.afterwards = seen();
    });
    assert.deepEqual(seenBy, { timer: undefined, bound: "a", afterwards: "a" });
  });

  it("binds an EventEmitter's listeners to a context, and still removes them", () => {
    const emitter = m.bind(ctx("e"), new EventEmitter());
    const heard: unknown[] = [];
    const listener = (): void => void heard.push(seen());
    emitter.on("x", listener);
    m.with(ctx("other"), () => emitter.emit("x"));
    emitter.removeListener("x", listener);
    emitter.emit("x");
    assert.deepEqual(heard, ["e"]);
    assert.equal(emitter.listenerCount("x"), 0);
  });

  it("attach makes a context active until disposed (once)", () => {
    const token = m.attach(ctx("a"));
    assert.equal(seen(), "a");
    token.dispose();
    assert.equal(m.active(), ROOT_CONTEXT);
    // A second dispose would put back the root inside "b".
    m.with(ctx("b"), () => {
      token.dispose();
      assert.equal(seen(), "b");
    });
  });

  it("stops following promises once disabled, and enables once", async () => {
    assert.equal(m.enable(), m);
    m.disable();
    const after = await m.with(ctx("a"), async () => {
      await sleep(1);
      return seen();
    });
    assert.equal(after, undefined);
  });
});
