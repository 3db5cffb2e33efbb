import assert from "node:assert/strict";
import {
  decodeBody,
  decodeValue,
  encodeBody,
  encodeValue,
  parseExportFile,
  parseRecord,
  recordToMessage,
  toRecord,
  viewOfRecord,
} from "../../../src/cli/dlq/codec.js";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import Long from "long";
import { computeStats } from "../../../src/cli/dlq/stats.js";
import { createProgress } from "../../../src/cli/dlq/progress.js";
import type { MessageView } from "../../../src/cli/dlq/view.js";

describe("dlq export codec", () => {
  const bodies: [string, Buffer, string][] = [
    ["compact JSON", Buffer.from('{"a":[1,"x"]}'), "json"],
    ["JSON that would not re-serialize identically", Buffer.from('{ "a": 1.0 }'), "utf8"],
    ["text", Buffer.from("héllo"), "utf8"],
    ["binary", Buffer.from([0xff, 0xfe, 0x00, 0x80]), "base64"],
    ["a UTF-8 BOM", Buffer.from([0xef, 0xbb, 0xbf, 0x61]), "base64"],
    ["empty", Buffer.alloc(0), "utf8"],
  ];
  for (const [name, bytes, encoding] of bodies) {
    it(`round-trips ${name} byte for byte as ${encoding}`, () => {
      const encoded = encodeBody(bytes);
      assert.equal(encoded.bodyEncoding, encoding);
      assert.deepEqual(
        decodeBody(encoded.bodyEncoding, JSON.parse(JSON.stringify(encoded.body)), "x"),
        bytes,
      );
    });
  }

  it("tags dates, binary and big integers", () => {
    const value = {
      d: new Date("2024-01-01T00:00:00.000Z"),
      b: Buffer.from([1, 2]),
      l: 2n ** 60n,
      n: [1, null, "s"],
    };
    const json = JSON.parse(JSON.stringify(encodeValue(value))) as unknown;
    assert.deepEqual(json, {
      d: { $date: "2024-01-01T00:00:00.000Z" },
      b: { $binary: "AQI=" },
      l: { $long: "1152921504606846976" },
      n: [1, null, "s"],
    });
    assert.deepEqual(decodeValue(json), value);
  });

  it("tags a plain Uint8Array as binary and a Long (annotation sequence numbers) as a long", () => {
    assert.deepEqual(encodeValue(new Uint8Array([1, 2])), { $binary: "AQI=" });
    assert.deepEqual(encodeValue(Long.fromString("72057594037927936")), { $long: "72057594037927936" });
  });

  it("reads an export file line by line, skipping blank lines, naming the line of a bad one", () => {
    const line = JSON.stringify({ bodyType: "data", bodyEncoding: "utf8", body: "hi" });
    assert.equal(parseExportFile(`${line}\n\n  \n${line}\n`, "dlq.jsonl").length, 2);
    assert.throws(() => parseExportFile(`${line}\n\n{`, "dlq.jsonl"), /dlq\.jsonl:3: not JSON/);
  });

  it("accepts enqueued times with an offset", () => {
    const record = parseRecord(
      JSON.stringify({
        bodyType: "data",
        bodyEncoding: "utf8",
        body: "",
        enqueuedTimeUtc: "2024-05-01T10:00:00+02:00",
      }),
      "f:1",
    );
    assert.equal(viewOfRecord(record).enqueuedTimeUtc?.toISOString(), "2024-05-01T08:00:00.000Z");
  });

  it("exports a received dead letter with its reason, description, ids and body, and reads it back", () => {
    // What the SDK hands the CLI (skipParsingBodyAsJson, skipConvertingDate), as plain data.
    const received = (fields: Partial<ServiceBusReceivedMessage>, bodyType?: "data" | "value") =>
      ({
        body: Buffer.from('{"orderId":"o-1"}'),
        messageId: "m-1",
        sequenceNumber: Long.fromNumber(42),
        enqueuedTimeUtc: new Date("2024-05-01T10:00:00Z"),
        deliveryCount: 3,
        deadLetterReason: "MaxDeliveryCountExceeded",
        deadLetterErrorDescription: "gave up after 3",
        subject: "OrderPlaced",
        applicationProperties: { region: "eu" },
        _rawAmqpMessage: { bodyType, messageAnnotations: { "x-opt-sequence-number": Long.fromNumber(42) } },
        ...fields,
      }) as unknown as ServiceBusReceivedMessage;
    const record = toRecord(received({}, "data"), "orders/subscriptions/audit/$deadletterqueue");
    assert.deepEqual(
      { ...record, annotations: undefined },
      {
        entity: "orders/subscriptions/audit/$deadletterqueue",
        sequenceNumber: "42",
        messageId: "m-1",
        enqueuedTimeUtc: "2024-05-01T10:00:00.000Z",
        deliveryCount: 3,
        deadLetterReason: "MaxDeliveryCountExceeded",
        deadLetterErrorDescription: "gave up after 3",
        bodyType: "data",
        bodyEncoding: "json",
        body: { orderId: "o-1" },
        subject: "OrderPlaced",
        applicationProperties: { region: "eu" },
        annotations: undefined,
      },
    );
    assert.deepEqual(record.annotations, { "x-opt-sequence-number": { $long: "42" } });
    const line = parseRecord(JSON.stringify(record), "f:1");
    assert.deepEqual(recordToMessage(line, "f:1").message.body, Buffer.from('{"orderId":"o-1"}'));
    // An AMQP value body, and a data body the SDK did not leave as bytes, are kept as values.
    const value = toRecord(received({ body: { n: 1 } }, "value"), "q");
    assert.deepEqual([value.bodyType, value.bodyEncoding, value.body], ["value", undefined, { n: 1 }]);
    const decoded = toRecord(received({ body: { n: 1 } }), "q");
    assert.deepEqual([decoded.bodyType, decoded.body], ["value", { n: 1 }]);
    assert.deepEqual(recordToMessage(parseRecord(JSON.stringify(decoded), "f:2"), "f:2").message.body, {
      n: 1,
    });
  });

  it("shows a record to the selection as the broker's message would be", () => {
    const view = (fields: Record<string, unknown>) =>
      viewOfRecord(
        parseRecord(JSON.stringify({ bodyType: "data", bodyEncoding: "utf8", body: "", ...fields }), "f"),
      );
    const full = view({
      sequenceNumber: "72057594037927936",
      messageId: "m-1",
      correlationId: 42,
      enqueuedTimeUtc: "2024-05-01T10:00:00Z",
      applicationProperties: { region: "eu", "sbw-replay-count": 2 },
    });
    assert.equal(full.sequenceNumber, 72057594037927936n);
    assert.equal(full.messageId, "m-1");
    assert.equal(full.correlationId, "42");
    assert.equal(full.enqueuedTimeUtc?.toISOString(), "2024-05-01T10:00:00.000Z");
    assert.deepEqual(full.applicationProperties, { region: "eu", "sbw-replay-count": 2 });
    assert.equal(full.replayCount, 2);
    assert.equal(view({ messageId: { $binary: "q80=" } }).messageId, "abcd", "a binary id as hex");
    assert.equal(view({ messageId: true }).messageId, "true");
    assert.equal(view({ messageId: { $long: "7" } }).messageId, "7");
    const bare = view({});
    assert.equal(bare.sequenceNumber, undefined);
    assert.equal(bare.messageId, undefined);
    assert.equal(bare.enqueuedTimeUtc, undefined);
  });

  it("validates records and drops DeadLetter* properties when sending", () => {
    assert.throws(() => parseRecord("{", "f:1"), /f:1: not JSON/);
    assert.throws(
      () => parseRecord('{"bodyType":"data","body":"x"}', "f:2"),
      /f:2: a data body needs bodyEncoding/,
    );
    assert.throws(() => parseRecord('{"bodyType":"xml","body":"x"}', "f:3"), /f:3: bodyType/);
    const record = parseRecord(
      JSON.stringify({
        bodyType: "data",
        bodyEncoding: "utf8",
        body: "hi",
        messageId: "m",
        applicationProperties: { DeadLetterReason: "R", at: { $date: "2024-01-01T00:00:00.000Z" } },
      }),
      "f:4",
    );
    const { message } = recordToMessage(record, "f:4");
    assert.deepEqual(message.body, Buffer.from("hi"));
    assert.deepEqual(message.applicationProperties, { at: new Date("2024-01-01T00:00:00.000Z") });
  });
});

describe("dlq stats and progress", () => {
  it("buckets by age and sorts groups by count", () => {
    const now = new Date("2024-05-10T12:00:00.000Z");
    const v = (minutesAgo: number, reason?: string): MessageView =>
      ({
        enqueuedTimeUtc: new Date(now.getTime() - minutesAgo * 60_000),
        deadLetterReason: reason,
        subject: undefined,
      }) as unknown as MessageView;
    const stats = computeStats([v(1, "A"), v(30, "B"), v(90, "B"), v(60 * 48), v(60 * 24 * 30, "B")], now);
    assert.deepEqual(stats.byReason, [
      { key: "B", count: 3 },
      { key: "(none)", count: 1 },
      { key: "A", count: 1 },
    ]);
    assert.deepEqual(
      stats.byAge.map((b) => b.count),
      [1, 1, 1, 1, 1],
    );
    assert.equal(stats.oldestEnqueuedTimeUtc?.getTime(), now.getTime() - 60 * 24 * 30 * 60_000);
  });

  it("prints a plain line every tenth and at the end without a terminal", () => {
    let out = "";
    let t = 0;
    const p = createProgress({
      total: 20,
      verb: "replay",
      sink: { write: (s: string) => (out += s) },
      tty: false,
      now: () => t,
    });
    for (let i = 0; i < 20; i += 1) {
      t += 100;
      p.tick(i === 3);
    }
    p.finish();
    const lines = out.trim().split("\n");
    assert.equal(lines.length, 10);
    assert.equal(lines.at(-1), "replay: 20/20 done, 1 failed, 10.0 msg/s");
  });

  it("redraws one bar with rate and ETA on a terminal", () => {
    let out = "";
    let t = 0;
    const p = createProgress({
      total: 4,
      verb: "replay",
      sink: { write: (s: string) => (out += s) },
      tty: true,
      now: () => t,
    });
    t = 1000;
    p.tick(false);
    assert.match(out, /^\r\[#{8}-{22}\] 1\/4 {2}1\.0 msg\/s {2}ETA 3s/);
  });
});
