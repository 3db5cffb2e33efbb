import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { audiencePath, SAS_TOKEN_TYPE, verifyToken } from "../../../src/emulator/amqp/cbs.js";
import {
  lockTokenToDeliveryTag,
  rfcBytesToUuid,
  swapGuidBytes,
  uuidToRfcBytes,
} from "../../../src/emulator/amqp/guid.js";
import { DuplicateWindow } from "../../../src/emulator/broker/dedup.js";
import type { StoredMessage } from "../../../src/emulator/broker/message.js";
import { ReadyQueue } from "../../../src/emulator/broker/ready-queue.js";
import { ManualClock } from "../../../src/emulator/clock.js";

function sas(audience: string, key: string, keyName: string, expirySeconds: number): string {
  const sr = encodeURIComponent(audience);
  const sig = createHmac("sha256", Buffer.from(key, "utf8"))
    .update(`${sr}\n${expirySeconds}`)
    .digest("base64");
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expirySeconds}&skn=${keyName}`;
}

describe("emulator internals", () => {
  describe("lock token byte order", () => {
    it("puts lock tokens in delivery tags in .NET GUID order", () => {
      const token = "00112233-4455-6677-8899-aabbccddeeff";
      assert.equal(lockTokenToDeliveryTag(token).toString("hex"), "33221100554477668899aabbccddeeff");
    });
    it("round-trips between RFC and .NET order", () => {
      const rfc = uuidToRfcBytes("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
      assert.equal(rfcBytesToUuid(swapGuidBytes(swapGuidBytes(rfc))), "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    });
  });

  describe("SAS verification", () => {
    const clock = new ManualClock(1_700_000_000_000);
    const keys = { RootManageSharedAccessKey: "secret" };
    const audience = "sb://localhost:5672/orders";
    const se = 1_700_000_000 + 3600;
    const cases: Array<[string, string, string, boolean]> = [
      ["accepts a valid token", sas(audience, "secret", "RootManageSharedAccessKey", se), audience, true],
      [
        "accepts a namespace-wide token for an entity",
        sas("sb://localhost:5672/", "secret", "RootManageSharedAccessKey", se),
        `${audience}/$management`,
        true,
      ],
      ["refuses a wrong key", sas(audience, "nope", "RootManageSharedAccessKey", se), audience, false],
      ["refuses an unknown key name", sas(audience, "secret", "Other", se), audience, false],
      [
        "refuses an expired token",
        sas(audience, "secret", "RootManageSharedAccessKey", 1_700_000_000 - 1),
        audience,
        false,
      ],
      [
        "refuses a token for another entity",
        sas("sb://localhost:5672/other", "secret", "RootManageSharedAccessKey", se),
        audience,
        false,
      ],
      ["refuses garbage", "Bearer x", audience, false],
    ];
    for (const [name, token, aud, ok] of cases) {
      it(name, () => {
        assert.equal(verifyToken({ audience: aud, type: SAS_TOKEN_TYPE, token }, keys, clock).ok, ok);
      });
    }
    it("accepts any token when no keys are configured", () => {
      assert.equal(verifyToken({ audience, type: "jwt", token: "x" }, undefined, clock).ok, true);
    });
    it("maps audiences to entity paths", () => {
      assert.equal(
        audiencePath("sb://localhost:5699/T1/Subscriptions/S1/$management"),
        "t1/subscriptions/s1",
      );
      assert.equal(audiencePath("sb://localhost:5699/q1/$DeadLetterQueue"), "q1");
    });
  });

  describe("ready queue", () => {
    const m = (order: number): StoredMessage => ({ order, seq: order }) as StoredMessage;
    it("redelivers a returned message before newer ones", () => {
      const q = new ReadyQueue();
      const [a, b, c] = [m(1), m(2), m(3)];
      q.append(a);
      q.append(b);
      q.append(c);
      assert.equal(
        q.take(() => true),
        a,
      );
      assert.equal(
        q.take(() => true),
        b,
      );
      q.giveBack(a);
      assert.deepEqual([q.take(() => true), q.take(() => true), q.take(() => true)], [a, c, undefined]);
    });
    it("skips stale entries", () => {
      const q = new ReadyQueue();
      q.append(m(1));
      q.append(m(2));
      assert.equal(q.take((x) => x.order === 2)?.order, 2);
    });
  });

  describe("duplicate window", () => {
    it("absorbs a repeat inside the window and accepts it after", () => {
      const w = new DuplicateWindow();
      assert.equal(w.seen("a", 0, 1000), false);
      assert.equal(w.seen("a", 999, 1000), true);
      assert.equal(w.seen("a", 1001, 1000), false);
    });
  });

  describe("manual clock", () => {
    it("fires due timers in time order and skips cancelled ones", () => {
      const clock = new ManualClock(0);
      const fired: string[] = [];
      clock.setTimer(20, () => fired.push("b"));
      clock.setTimer(10, () => fired.push("a"));
      const cancel = clock.setTimer(15, () => fired.push("x"));
      cancel();
      clock.advance(25);
      assert.deepEqual(fired, ["a", "b"]);
      assert.equal(clock.now(), 25);
    });
  });
});
