/**
 * Bad input never takes the emulator down: raw TCP garbage, malformed and truncated AMQP frames and
 * bad management requests fail only their own connection, link or request, and SDK clients (one
 * connected before the garbage, one after) keep working.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";

import type { ServiceBusClient } from "@azure/service-bus";
import rhea from "rhea";
import type { Connection, Message, Receiver, Sender } from "rhea";

import { configJson, EmulatorFixture, receiveOne, waitFor } from "../../helpers/emulator.js";

// ---- hand-made AMQP 1.0 bytes ----------------------------------------------------------------

const SASL_HEADER = Buffer.from("AMQP\x03\x01\x00\x00", "latin1");
const AMQP_HEADER = Buffer.from("AMQP\x00\x01\x00\x00", "latin1");
const CLOSE_DESCRIPTOR = Buffer.from([0x00, 0x53, 0x18]);

function list32(items: readonly Buffer[]): Buffer {
  const body = Buffer.concat(items);
  const head = Buffer.alloc(9);
  head[0] = 0xd0;
  head.writeUInt32BE(body.length + 4, 1);
  head.writeUInt32BE(items.length, 5);
  return Buffer.concat([head, body]);
}
const described = (code: number, items: readonly Buffer[]): Buffer =>
  Buffer.concat([Buffer.from([0x00, 0x53, code]), list32(items)]);
const sym = (s: string): Buffer => Buffer.concat([Buffer.from([0xa3, s.length]), Buffer.from(s, "latin1")]);
const str = (s: string): Buffer => Buffer.concat([Buffer.from([0xa1, s.length]), Buffer.from(s, "latin1")]);
const smallUint = (n: number): Buffer => Buffer.from([0x52, n]);
const NULL = Buffer.from([0x40]);

/** A frame: size, data offset 2, type (0 AMQP, 1 SASL), channel, body. */
function frame(type: 0 | 1, channel: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head[4] = 2;
  head[5] = type;
  head.writeUInt16BE(channel, 6);
  return Buffer.concat([head, body]);
}

const SASL_INIT_ANONYMOUS = frame(1, 0, described(0x41, [sym("ANONYMOUS")]));
const OPEN = frame(0, 0, described(0x10, [str("raw-client"), str("localhost")]));
const BEGIN = frame(0, 0, described(0x11, [NULL, smallUint(0), smallUint(100), smallUint(100)]));
/** SASL ANONYMOUS, AMQP header and open: a connection that is fully open from the client's side. */
const OPENED = [SASL_HEADER, SASL_INIT_ANONYMOUS, AMQP_HEADER, OPEN];

interface RawResult {
  readonly received: Buffer;
  /** Whether the server closed the socket before we did. */
  readonly closedByServer: boolean;
}

/**
 * Writes `chunks` (one write each, a few ms apart) to a raw socket, then waits until the server closes
 * it or `waitMs` passes, and destroys it.
 */
async function rawExchange(port: number, chunks: readonly Buffer[], waitMs: number): Promise<RawResult> {
  const socket = net.connect(port, "127.0.0.1");
  let received = Buffer.alloc(0);
  let closedByServer = false;
  socket.on("data", (d: Buffer) => (received = Buffer.concat([received, d])));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      closedByServer = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  const result = { received, closedByServer };
  socket.destroy();
  return result;
}

/**
 * Garbage that is not AMQP at all, or an AMQP protocol header the server does not speak. (The AMQP
 * port also answers HTTP for the administration API, so a well-formed HTTP request is not garbage.)
 */
const BAD_HEADERS: readonly (readonly [string, Buffer])[] = [
  ["random bytes", Buffer.concat([Buffer.from([0x00, 0xff, 0x13, 0x37]), randomBytes(4092)])],
  ["an AMQP 0-9-1 header", Buffer.from("AMQP\x00\x00\x09\x01", "latin1")],
  ["an AMQP 0-10 header", Buffer.from("AMQP\x01\x01\x00\x0a", "latin1")],
  ["an AMQP 1.0 header with an unknown protocol id", Buffer.from("AMQP\x07\x01\x00\x00", "latin1")],
];
/** Headers that start with "AMQP" but name a version or protocol id the server does not support. */
const UNSUPPORTED_AMQP_HEADERS = BAD_HEADERS.slice(1);

/** Malformed frames sent on a connection that is open. */
const MALFORMED_AFTER_OPEN: readonly (readonly [string, Buffer])[] = [
  ["an unknown performative", frame(0, 0, described(0x77, []))],
  ["a data offset below 2", Buffer.from([0, 0, 0, 8, 1, 0, 0, 0])],
  ["a transfer on a channel that was never begun", frame(0, 5, described(0x14, [smallUint(5)]))],
  [
    "a performative that does not decode",
    frame(0, 0, Buffer.from([0x00, 0x53, 0x11, 0xd0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9])),
  ],
  ["an unknown frame type", Buffer.from([0, 0, 0, 8, 2, 9, 0, 0])],
];

/** Input a server cannot reject at once (it may still be arriving); the client then goes away. */
const TRUNCATED_OR_HANGING: readonly (readonly [string, readonly Buffer[]])[] = [
  ["a valid SASL header followed by random bytes", [SASL_HEADER, randomBytes(600)]],
  ["a valid AMQP header (no SASL) followed by random bytes", [AMQP_HEADER, randomBytes(600)]],
  ["a truncated SASL frame", [SASL_HEADER, SASL_INIT_ANONYMOUS.subarray(0, 10)]],
  ["a truncated frame header after open", [...OPENED, BEGIN.subarray(0, 5)]],
  ["a truncated begin frame after open", [...OPENED, BEGIN.subarray(0, BEGIN.length - 3)]],
  [
    "a frame announcing 2 GB after open",
    [...OPENED, Buffer.from([0x7f, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1, 2])],
  ],
  ["a SASL header only", [SASL_HEADER]],
];

// ---- a raw rhea client, for bad management requests and bad addresses -------------------------

interface RheaSession {
  readonly connection: Connection;
  request(address: string, message: Message): Promise<Message>;
  close(): Promise<void>;
}

async function openRhea(port: number): Promise<RheaSession> {
  const container = rhea.create_container();
  const connection = container.connect({
    host: "127.0.0.1",
    port,
    hostname: "localhost",
    username: "RootManageSharedAccessKey",
    reconnect: false,
  });
  await new Promise<void>((resolve, reject) => {
    connection.once("connection_open", () => resolve());
    connection.once("connection_error", () => reject(new Error("connection error")));
    connection.once("disconnected", () => reject(new Error("disconnected")));
  });
  const links = new Map<string, { sender: Sender; receiver: Receiver; replyTo: string }>();
  const pending = new Map<string, (m: Message) => void>();
  let nextId = 0;

  async function pair(address: string): Promise<{ sender: Sender; replyTo: string }> {
    const existing = links.get(address);
    if (existing) return existing;
    const replyTo = `reply-${links.size}`;
    const receiver = connection.open_receiver({
      source: { address },
      target: { address: replyTo },
      name: replyTo,
    });
    receiver.on("message", (ctx) => {
      const message: Message | undefined = ctx.message;
      if (message === undefined) return;
      const id = String(message.correlation_id);
      pending.get(id)?.(message);
      pending.delete(id);
    });
    const sender = connection.open_sender({ target: { address } });
    await Promise.all([
      new Promise((resolve) => receiver.once("receiver_open", resolve)),
      new Promise((resolve) => sender.once("sendable", resolve)),
    ]);
    const entry = { sender, receiver, replyTo };
    links.set(address, entry);
    return entry;
  }

  return {
    connection,
    async request(address, message) {
      const { sender, replyTo } = await pair(address);
      const id = `req-${nextId++}`;
      const reply = new Promise<Message>((resolve) => pending.set(id, resolve));
      sender.send({ ...message, message_id: id, reply_to: replyTo });
      return reply;
    },
    async close() {
      if (!connection.is_open()) return;
      const closed = new Promise((resolve) => connection.once("connection_close", resolve));
      connection.close();
      await closed;
    },
  };
}

function statusOf(reply: Message): number {
  const props = reply.application_properties ?? {};
  return Number(props.statusCode ?? props["status-code"]);
}

// ---- the tests ----------------------------------------------------------------------------------

describe("emulator: robustness against malformed input (raw sockets, then the official SDK)", () => {
  let fx: EmulatorFixture;
  /** Connected, with a sender and a receiver that already worked, before any garbage is sent. */
  let early: ServiceBusClient;

  async function roundTrip(client: ServiceBusClient, body: string): Promise<void> {
    const sender = client.createSender("q");
    await sender.sendMessages({ body });
    const receiver = client.createReceiver("q");
    const m = await receiveOne(receiver);
    assert.equal(m.body, body);
    await receiver.completeMessage(m);
    await receiver.close();
    await sender.close();
  }

  before(async () => {
    fx = await EmulatorFixture.start({ config: configJson({ queues: [{ Name: "q" }] }) });
    early = fx.client();
    await roundTrip(early, "before the garbage");
  });

  after(async () => {
    await fx.close();
  });

  for (const [what, bytes] of BAD_HEADERS) {
    it(`closes a connection that starts with ${what}`, async () => {
      const result = await rawExchange(fx.emulator.port, [bytes], 3000);
      assert.ok(result.closedByServer, "the server closes the socket");
    });
  }

  it("answers an unsupported AMQP protocol header with its own AMQP header before closing (AMQP 1.0 §2.2)", async () => {
    for (const [what, bytes] of UNSUPPORTED_AMQP_HEADERS) {
      const result = await rawExchange(fx.emulator.port, [bytes], 3000);
      assert.ok(result.closedByServer, `${what}: the server closes the socket`);
      assert.equal(
        result.received.subarray(0, 4).toString("latin1"),
        "AMQP",
        `${what}: protocol header sent back`,
      );
    }
  });

  for (const [what, bytes] of MALFORMED_AFTER_OPEN) {
    it(`closes the connection after ${what}`, async () => {
      const result = await rawExchange(fx.emulator.port, [...OPENED, bytes], 3000);
      assert.equal(result.received.subarray(0, 8).toString("latin1"), SASL_HEADER.toString("latin1"));
      assert.ok(result.closedByServer, "the server closes the socket");
    });
  }

  it("sends an AMQP close with an error before dropping a connection that sent a malformed frame", async () => {
    for (const [what, bytes] of MALFORMED_AFTER_OPEN) {
      const result = await rawExchange(fx.emulator.port, [...OPENED, bytes], 3000);
      // Everything the server wrote after its SASL exchange and its open: look for a close performative.
      const afterOpen = result.received.subarray(result.received.indexOf(AMQP_HEADER) + 8);
      assert.ok(afterOpen.includes(CLOSE_DESCRIPTOR), `${what}: a close frame carrying the error is sent`);
    }
  });

  it("survives truncated frames and garbage after valid headers, and frees those connections", async () => {
    const baseline = fx.emulator.snapshot().connections;
    const results = await Promise.all(
      TRUNCATED_OR_HANGING.map(([, chunks]) => rawExchange(fx.emulator.port, chunks, 200)),
    );
    assert.equal(results.length, TRUNCATED_OR_HANGING.length);
    await waitFor(
      () => fx.emulator.snapshot().connections === baseline,
      `connections to return to ${baseline} (now ${fx.emulator.snapshot().connections})`,
    );
  });

  it("survives a burst of sockets that connect and vanish mid-handshake", async () => {
    const baseline = fx.emulator.snapshot().connections;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        rawExchange(fx.emulator.port, i % 2 === 0 ? [SASL_HEADER] : [...OPENED.slice(0, 1 + (i % 4))], 0),
      ),
    );
    await waitFor(
      () => fx.emulator.snapshot().connections === baseline,
      "connections to return to the baseline",
    );
  });

  it("answers a bad management request with an error on that request only", async () => {
    const raw = await openRhea(fx.emulator.port);
    try {
      const unknownOp = await raw.request("q/$management", {
        application_properties: { operation: "com.microsoft:no-such-operation" },
        body: {},
      });
      assert.ok(statusOf(unknownOp) >= 400, `unknown operation → error status, got ${statusOf(unknownOp)}`);

      const badBody = await raw.request("q/$management", {
        application_properties: { operation: "com.microsoft:peek-message" },
        body: "not a map",
      });
      assert.ok(statusOf(badBody) >= 400, `malformed body → error status, got ${statusOf(badBody)}`);

      const noOperation = await raw.request("q/$management", { body: {} });
      assert.ok(
        statusOf(noOperation) >= 400,
        `missing operation → error status, got ${statusOf(noOperation)}`,
      );

      // The same connection and links still serve a valid request.
      const peek = await raw.request("q/$management", {
        application_properties: { operation: "com.microsoft:peek-message" },
        body: { "from-sequence-number": rhea.types.wrap_long(1), "message-count": rhea.types.wrap_int(1) },
      });
      assert.ok([200, 204].includes(statusOf(peek)), `valid peek after bad requests, got ${statusOf(peek)}`);
      assert.ok(raw.connection.is_open());
    } finally {
      await raw.close();
    }
  });

  it("refuses a link to an unknown address on that link only", async () => {
    const raw = await openRhea(fx.emulator.port);
    try {
      const receiver = raw.connection.open_receiver({ source: { address: "no/such/thing" } });
      const error = await new Promise<unknown>((resolve) =>
        receiver.once("receiver_close", () => resolve(receiver.error)),
      );
      assert.ok(error, "the link is closed with an error");
      const peek = await raw.request("q/$management", {
        application_properties: { operation: "com.microsoft:peek-message" },
        body: { "from-sequence-number": rhea.types.wrap_long(1), "message-count": rhea.types.wrap_int(1) },
      });
      assert.ok([200, 204].includes(statusOf(peek)), "the connection still serves requests");
    } finally {
      await raw.close();
    }
  });

  it("keeps serving an SDK client that connected before the garbage", async () => {
    await roundTrip(early, "after the garbage, old client");
  });

  it("serves a fresh SDK client after the garbage", async () => {
    const fresh = fx.client();
    await roundTrip(fresh, "after the garbage, new client");
    await fx.closeClient(fresh);
  });
});
