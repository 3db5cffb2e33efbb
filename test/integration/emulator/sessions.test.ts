/** Sessions, on a ManualClock so that session locks expire only when the test says so. */
import assert from "node:assert/strict";

import type {
  ServiceBusClient,
  ServiceBusSessionReceiver,
  ServiceBusSessionReceiverOptions,
} from "@azure/service-bus";

import { ManualClock } from "../../../src/emulator/index.js";
import {
  assertNothingToReceive,
  configJson,
  EmulatorFixture,
  expectServiceBusError,
  receiveExactly,
  receiveOne,
  waitFor,
} from "../../helpers/emulator.js";

const SECOND = 1000;
const OPTS: ServiceBusSessionReceiverOptions = { maxAutoLockRenewalDurationInMs: 0 };

describe("emulator: sessions (official SDK)", () => {
  let fx: EmulatorFixture;
  let client: ServiceBusClient;
  /** acceptNextSession long-polls up to the client's operation timeout: keep it short here. */
  let shortClient: ServiceBusClient;
  let clock: ManualClock;
  const open: ServiceBusSessionReceiver[] = [];

  async function accept(queue: string, sessionId: string): Promise<ServiceBusSessionReceiver> {
    const r = await client.acceptSession(queue, sessionId, OPTS);
    open.push(r);
    return r;
  }

  before(async () => {
    clock = new ManualClock();
    const sessionQueue = (Name: string, extra: Record<string, unknown> = {}) => ({
      Name,
      Properties: { RequiresSession: true, LockDuration: "PT30S", ...extra },
    });
    fx = await EmulatorFixture.start({
      clock,
      config: configJson({
        queues: [
          sessionQueue("order"),
          sessionQueue("abandon-order"),
          sessionQueue("next"),
          sessionQueue("next-skip"),
          sessionQueue("empty"),
          sessionQueue("exclusive"),
          sessionQueue("renew"),
          sessionQueue("expire"),
          sessionQueue("state"),
          sessionQueue("nosession"),
          sessionQueue("peek"),
          sessionQueue("dlq"),
          sessionQueue("defer"),
          sessionQueue("rad"),
        ],
        topics: [
          {
            Name: "session-topic",
            Subscriptions: [{ Name: "sessions", Properties: { RequiresSession: true } }, { Name: "plain" }],
          },
        ],
      }),
    });
    client = fx.client();
    shortClient = fx.client({ retryOptions: { maxRetries: 0, timeoutInMs: 1000 } });
  });

  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((r) => r.close()));
  });

  after(async () => {
    await fx.close();
  });

  it("keeps strict per-session order with interleaved sends, delivering only the accepted session", async () => {
    const sender = client.createSender("order");
    for (let i = 1; i <= 5; i += 1) {
      await sender.sendMessages({ body: `a${i}`, sessionId: "a" });
      await sender.sendMessages({ body: `b${i}`, sessionId: "b" });
    }
    await sender.sendMessages([
      { body: "a6", sessionId: "a" },
      { body: "b6", sessionId: "b" },
      { body: "a7", sessionId: "a" },
    ]);
    await Promise.all([sender.sendMessages({ body: "c1", sessionId: "c" })]);

    const a = await accept("order", "a");
    assert.equal(a.sessionId, "a");
    const fromA = await receiveExactly(a, 7);
    assert.deepEqual(
      fromA.map((m) => m.body as unknown),
      ["a1", "a2", "a3", "a4", "a5", "a6", "a7"],
    );
    assert.ok(fromA.every((m) => m.sessionId === "a"));
    for (const m of fromA) await a.completeMessage(m);
    await assertNothingToReceive(a);

    const b = await accept("order", "b");
    const fromB = await receiveExactly(b, 6);
    assert.deepEqual(
      fromB.map((m) => m.body as unknown),
      ["b1", "b2", "b3", "b4", "b5", "b6"],
    );
    for (const m of fromB) await b.completeMessage(m);
    assert.equal(fx.entity("order").active, 1, "session c is untouched");
    await sender.close();
  });

  it("redelivers an abandoned session message before the later ones", async () => {
    const sender = client.createSender("abandon-order");
    await sender.sendMessages([1, 2, 3].map((n) => ({ body: n, sessionId: "s" })));
    const r = await accept("abandon-order", "s");
    const first = await receiveOne(r);
    assert.equal(first.body, 1);
    await r.abandonMessage(first);
    const again = await receiveExactly(r, 3);
    assert.deepEqual(
      again.map((m) => [m.body as unknown, m.deliveryCount]),
      [
        [1, 1],
        [2, 0],
        [3, 0],
      ],
    );
    for (const m of again) await r.completeMessage(m);
    await sender.close();
  });

  it("acceptNextSession returns a session that has messages", async () => {
    const sender = client.createSender("next");
    await sender.sendMessages({ body: "x1", sessionId: "only-one" });
    const r = await client.acceptNextSession("next", OPTS);
    open.push(r);
    assert.equal(r.sessionId, "only-one");
    assert.ok(r.sessionLockedUntilUtc instanceof Date);
    const m = await receiveOne(r);
    assert.equal(m.body, "x1");
    await r.completeMessage(m);
    await sender.close();
  });

  it("acceptNextSession skips sessions that are locked", async () => {
    const sender = client.createSender("next-skip");
    await sender.sendMessages([
      { body: "p", sessionId: "p" },
      { body: "q", sessionId: "q" },
    ]);
    await accept("next-skip", "p");
    const next = await client.acceptNextSession("next-skip", OPTS);
    open.push(next);
    assert.equal(next.sessionId, "q");
    // Both sessions are locked now: no next session is available.
    await expectServiceBusError(
      shortClient.acceptNextSession("next-skip", OPTS),
      "ServiceTimeout",
      "SessionCannotBeLocked",
    );
    await sender.close();
  });

  it("acceptNextSession fails with ServiceTimeout or SessionCannotBeLocked when no session is available", async () => {
    await expectServiceBusError(
      shortClient.acceptNextSession("empty", OPTS),
      "ServiceTimeout",
      "SessionCannotBeLocked",
    );
  });

  it("acceptNextSession waits for a session that appears while it polls", async () => {
    const pending = shortClient.acceptNextSession("empty", OPTS);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sender = client.createSender("empty");
    await sender.sendMessages({ body: "arrived", sessionId: "late" });
    const r = await pending;
    open.push(r);
    assert.equal(r.sessionId, "late");
    const m = await receiveOne(r);
    await r.completeMessage(m);
    await sender.close();
  });

  it("locks a session exclusively: a second acceptSession fails with SessionCannotBeLocked until the first closes", async () => {
    const sender = client.createSender("exclusive");
    await sender.sendMessages({ body: "mine", sessionId: "excl" });
    const first = await client.acceptSession("exclusive", "excl", OPTS);
    await expectServiceBusError(client.acceptSession("exclusive", "excl", OPTS), "SessionCannotBeLocked");
    const other = fx.client();
    await expectServiceBusError(other.acceptSession("exclusive", "excl", OPTS), "SessionCannotBeLocked");
    await first.close();
    const second = await other.acceptSession("exclusive", "excl", OPTS);
    open.push(second);
    const m = await receiveOne(second);
    assert.equal(m.body, "mine");
    await second.completeMessage(m);
    await fx.closeClient(other);
    await sender.close();
  });

  it("accepts a session id that has no messages", async () => {
    const r = await accept("empty", "nobody-home");
    assert.equal(r.sessionId, "nobody-home");
    await assertNothingToReceive(r);
  });

  it("renewSessionLock extends sessionLockedUntilUtc and keeps the session locked", async () => {
    const sender = client.createSender("renew");
    await sender.sendMessages({ body: "r", sessionId: "rs" });
    const r = await accept("renew", "rs");
    const before = r.sessionLockedUntilUtc.getTime();
    assert.equal(before, clock.now() + 30 * SECOND);
    clock.advance(20 * SECOND);
    const renewed = await r.renewSessionLock();
    assert.equal(renewed.getTime(), clock.now() + 30 * SECOND);
    assert.equal(r.sessionLockedUntilUtc.getTime(), renewed.getTime());
    clock.advance(20 * SECOND); // beyond the first lock, inside the renewed one
    await expectServiceBusError(client.acceptSession("renew", "rs", OPTS), "SessionCannotBeLocked");
    const m = await receiveOne(r);
    await r.completeMessage(m);
    await sender.close();
  });

  it("releases an expired session lock: settling fails and another receiver gets the messages", async () => {
    const sender = client.createSender("expire");
    await sender.sendMessages({ body: "e", sessionId: "es" });
    const r = await accept("expire", "es");
    const m = await receiveOne(r);
    assert.equal(m.deliveryCount, 0);
    clock.advance(31 * SECOND);
    // The emulator detaches the session link with session-lock-lost; once the SDK has seen that,
    // settling and receiving fail with SessionLockLost.
    await waitFor(() => r.isClosed, "the SDK to see the session link detached");
    await expectServiceBusError(r.completeMessage(m), "SessionLockLost");
    await expectServiceBusError(r.receiveMessages(1, { maxWaitTimeInMs: 200 }), "SessionLockLost");
    const again = await accept("expire", "es");
    const m2 = await receiveOne(again);
    assert.equal(m2.body, "e");
    assert.equal(m2.deliveryCount, 1);
    await again.completeMessage(m2);
    await sender.close();
  });

  it("stores session state that survives closing and re-accepting the session", async () => {
    const r = await accept("state", "st");
    const initial: unknown = await r.getSessionState();
    assert.ok(!initial, `initial session state is empty, got ${String(initial)}`);
    await r.setSessionState({ step: 2, items: ["a"] });
    assert.deepEqual(await r.getSessionState(), { step: 2, items: ["a"] });
    await r.close();
    assert.equal(fx.entity("state").sessions, 1, "a session with state counts in the snapshot");

    const again = await accept("state", "st");
    assert.deepEqual(await again.getSessionState(), { step: 2, items: ["a"] });
    await again.setSessionState(Buffer.from([1, 2, 3]));
    const raw: unknown = await again.getSessionState();
    assert.ok(Buffer.isBuffer(raw));
    assert.deepEqual([...raw], [1, 2, 3]);
    const other = await accept("state", "other");
    assert.ok(!(await other.getSessionState()), "state is per session");
  });

  it("refuses to send a message without SessionId to a session queue", async () => {
    const sender = client.createSender("nosession");
    await expectServiceBusError(
      sender.sendMessages({ body: "no-session" }),
      "GeneralError",
      "InvalidOperation",
    );
    await expectServiceBusError(
      sender.sendMessages([
        { body: "ok", sessionId: "s" },
        { body: "missing", sessionId: undefined },
      ]),
      "GeneralError",
      "InvalidOperation",
    );
    assert.equal(fx.entity("nosession").active, 0, "a refused batch stores nothing");
    await sender.sendMessages({ body: "with-session", sessionId: "s" });
    assert.equal(fx.entity("nosession").active, 1);
    await sender.close();
  });

  it("peeks only the accepted session's messages", async () => {
    const sender = client.createSender("peek");
    await sender.sendMessages([
      { body: "x1", sessionId: "x" },
      { body: "y1", sessionId: "y" },
      { body: "x2", sessionId: "x" },
    ]);
    const r = await accept("peek", "x");
    const peeked = await r.peekMessages(10);
    assert.deepEqual(
      peeked.map((m) => m.body as unknown),
      ["x1", "x2"],
    );
    await sender.close();
  });

  it("dead-letters a session message into a DLQ read by a plain receiver", async () => {
    const sender = client.createSender("dlq");
    await sender.sendMessages({ body: "dead-session", sessionId: "ds" });
    const r = await accept("dlq", "ds");
    await r.deadLetterMessage(await receiveOne(r), {
      deadLetterReason: "session-bad",
      deadLetterErrorDescription: "in a session",
    });
    const dlq = client.createReceiver("dlq", { subQueueType: "deadLetter" });
    const dead = await receiveOne(dlq);
    assert.equal(dead.body, "dead-session");
    assert.equal(dead.sessionId, "ds");
    assert.equal(dead.deadLetterReason, "session-bad");
    await dlq.completeMessage(dead);
    await sender.close();
  });

  it("defers a session message and receives it by sequence number within the session", async () => {
    const sender = client.createSender("defer");
    await sender.sendMessages([
      { body: "later", sessionId: "df" },
      { body: "now", sessionId: "df" },
    ]);
    const r = await accept("defer", "df");
    const [later, now] = await receiveExactly(r, 2);
    await r.deferMessage(later!);
    await r.completeMessage(now!);
    const [d] = await r.receiveDeferredMessages(later!.sequenceNumber!);
    assert.equal(d!.body, "later");
    assert.equal(d!.deliveryCount, 1);
    await r.completeMessage(d!);
    assert.equal(fx.entity("defer").deferred + fx.entity("defer").active, 0);
    await sender.close();
  });

  it("receives and deletes from a session", async () => {
    const sender = client.createSender("rad");
    await sender.sendMessages([
      { body: 1, sessionId: "r" },
      { body: 2, sessionId: "r" },
    ]);
    const r = await client.acceptSession("rad", "r", { receiveMode: "receiveAndDelete" });
    open.push(r);
    const got = await receiveExactly(r, 2);
    assert.deepEqual(
      got.map((m) => m.body as unknown),
      [1, 2],
    );
    assert.equal(fx.entity("rad").active + fx.entity("rad").locked, 0);
    await sender.close();
  });

  it("accepts sessions on a session-enabled subscription", async () => {
    const sender = client.createSender("session-topic");
    await sender.sendMessages([
      { body: "t1", sessionId: "ts" },
      { body: "t2", sessionId: "ts" },
    ]);
    const r = await client.acceptSession("session-topic", "sessions", "ts", OPTS);
    open.push(r);
    const got = await receiveExactly(r, 2);
    assert.deepEqual(
      got.map((m) => m.body as unknown),
      ["t1", "t2"],
    );
    for (const m of got) await r.completeMessage(m);
    await expectServiceBusError(
      shortClient.acceptNextSession("session-topic", "sessions", OPTS),
      "ServiceTimeout",
      "SessionCannotBeLocked",
    );
    const plain = client.createReceiver("session-topic", "plain", { receiveMode: "receiveAndDelete" });
    assert.equal((await receiveExactly(plain, 2)).length, 2);
    await sender.close();
  });
});
