import assert from "node:assert/strict";
import rhea from "rhea";
import { encodeDeliveryFast, stampMessageId } from "../../../src/emulator/broker/fast-codec.js";
import { bareSections, decodeHead } from "../../../src/emulator/broker/message.js";

type Decoded = Record<string, unknown> & { message_annotations?: Record<string, unknown> };
const decode = (b: Buffer): Decoded => rhea.message.decode(b);

describe("emulator fast codec", () => {
  const bare = bareSections(
    rhea.message.encode({
      message_id: "m-1",
      subject: "OrderPlaced",
      application_properties: { a: 1 },
      body: rhea.message.data_section(Buffer.from("payload")),
    }),
  );

  const cases: Array<
    [string, Parameters<typeof encodeDeliveryFast>[0], Parameters<typeof encodeDeliveryFast>[4]]
  > = [
    ["no header, plain delivery", undefined, {}],
    [
      "ttl and priority, locked deferred delivery",
      { ttl: 60_000, priority: 4, durable: true },
      { lockedUntil: 1_700_000_060_000, state: 1 },
    ],
    [
      "scheduled peek with a dead-letter source",
      { first_acquirer: false },
      { state: 2, scheduledAt: 1_700_000_100_000, deadLetterSource: "q/$DeadLetterQueue" },
    ],
    ["a long dead-letter source", undefined, { deadLetterSource: "x".repeat(300) }],
  ];
  for (const [name, header, extras] of cases) {
    it(`writes what rhea decodes back: ${name}`, () => {
      const d = decode(encodeDeliveryFast(header, 3, 1234567890123, 1_700_000_000_000, extras, bare));
      assert.equal(d.delivery_count, 3);
      assert.equal(d.ttl, header?.ttl);
      assert.equal(d.priority, header?.priority);
      assert.equal(d.durable, header?.durable);
      assert.equal(d.first_acquirer, header?.first_acquirer);
      const a = d.message_annotations!;
      assert.equal(Number(a["x-opt-sequence-number"]), 1234567890123);
      assert.equal((a["x-opt-enqueued-time"] as Date).getTime(), 1_700_000_000_000);
      assert.equal((a["x-opt-locked-until"] as Date | undefined)?.getTime(), extras.lockedUntil);
      assert.equal(a["x-opt-message-state"], extras.state);
      assert.equal((a["x-opt-scheduled-enqueue-time"] as Date | undefined)?.getTime(), extras.scheduledAt);
      assert.equal(a["x-opt-deadletter-source"], extras.deadLetterSource);
      assert.equal(d.message_id, "m-1");
      assert.equal(d.subject, "OrderPlaced");
      assert.deepEqual(d.application_properties, { a: 1 });
    });
  }

  it("stamps a MessageId into a properties section that has none, keeping the other fields", () => {
    const encoded = rhea.message.encode({ subject: "s", group_id: "g", body: "x" });
    const props = bareSections(encoded).subarray(
      0,
      bareSections(encoded).indexOf(Buffer.from([0x00, 0x53, 0x77])),
    );
    const stamped = stampMessageId(props, "0123456789abcdef");
    assert.ok(stamped);
    const d = decode(stamped);
    assert.deepEqual([d.message_id, d.subject, d.group_id], ["0123456789abcdef", "s", "g"]);
  });

  it("stamps an empty properties list and leaves an existing id alone", () => {
    assert.equal(decode(stampMessageId(Buffer.from([0x00, 0x53, 0x73, 0x45]), "id")!).message_id, "id");
    // Multi-byte UTF-8: the str8 length is in bytes, not characters.
    assert.equal(decode(stampMessageId(Buffer.from([0x00, 0x53, 0x73, 0x45]), "ré-1")!).message_id, "ré-1");
    assert.equal(stampMessageId(Buffer.from([0x00, 0x53, 0x73, 0x45]), "é".repeat(128)), undefined);
    const withId = bareSections(rhea.message.encode({ message_id: "keep", body: "x" }));
    assert.equal(stampMessageId(withId, "other"), undefined);
  });
});

describe("emulator head decoder", () => {
  it("decodes header, annotations, properties and application properties as rhea does", () => {
    const full = {
      ttl: 60_000,
      durable: true,
      priority: 4,
      message_id: "m-1",
      to: "there",
      subject: "OrderPlaced",
      reply_to: "back",
      correlation_id: "c-1",
      content_type: "application/json",
      group_id: "session-7",
      reply_to_group_id: "rs",
      message_annotations: {
        "x-opt-partition-key": "pk",
        "x-opt-scheduled-enqueue-time": new Date(1_700_000_000_000),
      },
      application_properties: {
        s: "x",
        n: 42,
        neg: -5,
        f: 1.5,
        b: false,
        big: 2 ** 40,
        when: new Date(1_700_000_000_123),
      },
      body: rhea.message.data_section(Buffer.from("payload")),
    };
    const encoded = rhea.message.encode(full);
    const ours = decodeHead(encoded)!;
    const theirs = decode(encoded);
    delete theirs.body;
    assert.deepEqual({ ...ours }, { ...theirs });
  });
});
