/**
 * A minimal rhea server that speaks just enough Service Bus AMQP for the `@azure/service-bus`
 * SDK and does NO broker work. It exists only to measure the SDK + rhea + TCP ceiling that the
 * emulator is compared against (bench/suites/emulator.ts).
 *
 * - SASL ANONYMOUS; every `$cbs` put-token is answered 202 (correlation-id = message-id).
 * - Client senders: attach echoed with `max-message-size`, credit window 1000, every transfer
 *   (single or batch envelope, format 0x80013700) accepted without looking inside.
 * - Client receivers: attach echoed with the settle modes mirrored; as much credit as the client
 *   grants is filled with synthetic messages copied from one pre-encoded template (1 KiB data
 *   body), patching only message-id, `x-opt-sequence-number`, `x-opt-enqueued-time` and
 *   `x-opt-locked-until`; the delivery tag is a 16-byte lock token (a counter, which the SDK
 *   reads in .NET GUID order like any other). Every disposition is settled with its own
 *   outcome (never an error) and the delivery is then forgotten, as the sender may in
 *   rcv-settle-mode second. Drain requests are answered at once ("nothing more available").
 * - `$management` requests get a 501 reply (the measured paths never use them).
 *
 * Servicebus-amqp.md §9 and Appendix B describe what the SDK needs from a server.
 */
import { randomBytes } from "node:crypto";
import type { Server, Socket } from "node:net";

import rhea from "rhea";
import type {
  Connection,
  Delivery,
  EventContext,
  Message,
  Receiver,
  Sender,
  Source,
  TerminusOptions,
} from "rhea";

export interface MinimalServerOptions {
  readonly port?: number;
  readonly host?: string;
  /** `max-message-size` on sender attach; the emulator's default (1 MiB) unless given. */
  readonly maxMessageSize?: number;
  /** Data-section bytes of every synthetic message; a 1024-byte JSON string unless given. */
  readonly deliveryBody?: Buffer;
  /** Lock duration stamped into `x-opt-locked-until`; 60 s (the emulator's default) unless given. */
  readonly lockDurationMs?: number;
}

export interface MinimalServerStats {
  /** Transfers accepted from clients (a batch counts once). */
  transfersIn: number;
  /** Synthetic messages delivered. */
  deliveriesOut: number;
  /** Client dispositions settled. */
  settled: number;
}

export interface MinimalServer {
  readonly host: string;
  readonly port: number;
  readonly connectionString: string;
  readonly stats: MinimalServerStats;
  close(): Promise<void>;
}

/** rhea's typings leave the attach frames out; this is the part of them used here. */
interface AttachFields {
  source?: (Source & { address?: string }) | null;
  target?: { address?: string } | null;
  snd_settle_mode?: number;
  rcv_settle_mode?: number;
  max_message_size?: number;
}
interface LinkInternals {
  readonly local: { readonly attach: AttachFields };
  readonly remote: { readonly attach: AttachFields };
}
const attachOf = (link: Sender | Receiver): LinkInternals => link as unknown as LinkInternals;

interface Described {
  readonly described: () => unknown;
}
const outcomes = rhea.message as unknown as {
  accepted(): Described;
  released(): Described;
  modified(): Described;
  rejected(): Described;
};
const types = rhea.types;

type Role = "cbs" | "management" | "entity-in" | "entity-out" | "reply";

const DEFAULT_BODY = Buffer.from(JSON.stringify("x".repeat(1022)));

/** One encoded message plus where the per-delivery fields sit in it. */
interface Template {
  readonly bytes: Buffer;
  readonly messageIdAt: number;
  readonly sequenceAt: number;
  readonly enqueuedAt: number;
  readonly lockedUntilAt: number;
}

const SENTINEL_ID = "Q".repeat(32);
const SENTINEL_SEQ = 0x0a0b0c0d0e0f;
const SENTINEL_ENQUEUED = 0x1a2b3c4d5e6f;
const SENTINEL_LOCKED = 0x6f5e4d3c2b1a;

function findOnce(haystack: Buffer, needle: Buffer, what: string): number {
  const at = haystack.indexOf(needle);
  if (at < 0 || haystack.indexOf(needle, at + 1) >= 0) throw new Error(`template: ${what} not found once`);
  return at;
}

/** Offset of the 6 low bytes of an 8-byte big-endian field holding `sentinel` after type code `code`. */
function findInt64(haystack: Buffer, code: number, sentinel: number, what: string): number {
  const needle = Buffer.alloc(9);
  needle[0] = code;
  needle.writeUIntBE(sentinel, 3, 6);
  return findOnce(haystack, needle, what) + 3;
}

export function buildTemplate(body: Buffer): Template {
  const message = {
    delivery_count: 0, // rhea flattens the header fields onto the message
    message_annotations: {
      "x-opt-sequence-number": types.wrap_long(SENTINEL_SEQ),
      "x-opt-enqueued-time": types.wrap_timestamp(SENTINEL_ENQUEUED),
      "x-opt-locked-until": types.wrap_timestamp(SENTINEL_LOCKED),
    },
    message_id: SENTINEL_ID,
    body: rhea.message.data_section(body),
  };
  const bytes = rhea.message.encode(message);
  return {
    bytes,
    messageIdAt: findOnce(bytes, Buffer.from(SENTINEL_ID, "latin1"), "message-id"),
    sequenceAt: findInt64(bytes, 0x81, SENTINEL_SEQ, "sequence number"),
    enqueuedAt: findInt64(bytes, 0x83, SENTINEL_ENQUEUED, "enqueued time"),
    lockedUntilAt: findInt64(bytes, 0x83, SENTINEL_LOCKED, "locked-until"),
  };
}

export async function startMinimalServer(options: MinimalServerOptions = {}): Promise<MinimalServer> {
  const host = options.host ?? "127.0.0.1";
  const maxMessageSize = options.maxMessageSize ?? 1024 * 1024;
  const lockDurationMs = options.lockDurationMs ?? 60_000;
  const template = buildTemplate(options.deliveryBody ?? DEFAULT_BODY);
  const tagPrefix = randomBytes(8);
  const stats: MinimalServerStats = { transfersIn: 0, deliveriesOut: 0, settled: 0 };
  let counter = 0;

  const roles = new WeakMap<Sender | Receiver, Role>();
  const replyLinks = new WeakMap<Connection, Map<string, Sender>>();
  const connections = new Set<Connection>();
  const sockets = new Set<Socket>();

  const container = rhea.create_container({
    id: "bench-minimal-server",
    sender_options: { treat_modified_as_released: false, autosettle: false },
    receiver_options: { autoaccept: false, credit_window: 1000 },
  });
  (container.sasl_server_mechanisms as { enable_anonymous(): void }).enable_anonymous();

  const repliesOf = (c: Connection): Map<string, Sender> => {
    let m = replyLinks.get(c);
    if (!m) {
      m = new Map();
      replyLinks.set(c, m);
    }
    return m;
  };

  const deliverOne = (sender: Sender, nowMs: number): void => {
    counter += 1;
    const bytes = Buffer.from(template.bytes);
    bytes.write(counter.toString(16).padStart(32, "0"), template.messageIdAt, 32, "latin1");
    bytes.writeUIntBE(counter, template.sequenceAt, 6);
    bytes.writeUIntBE(nowMs, template.enqueuedAt, 6);
    bytes.writeUIntBE(nowMs + lockDurationMs, template.lockedUntilAt, 6);
    const tag = Buffer.allocUnsafe(16);
    tagPrefix.copy(tag, 0);
    tag.writeUIntBE(0, 8, 2);
    tag.writeUIntBE(counter, 10, 6);
    sender.send(bytes, tag, 0);
    stats.deliveriesOut += 1;
  };

  /**
   * rhea decrements `credit` only when it writes a transfer, so `while (sender.sendable())` would
   * queue far more than the client asked for. The credit limit is `delivery_count + credit`
   * (both advance together as transfers go out); subtract what this server already queued.
   */
  const queued = new WeakMap<Sender, number>();
  const pump = (sender: Sender): void => {
    if (roles.get(sender) !== "entity-out") return;
    const link = sender as unknown as { credit: number; delivery_count: number };
    let sent = queued.get(sender) ?? 0;
    const nowMs = Date.now();
    while (link.delivery_count + link.credit - sent > 0 && sender.sendable()) {
      deliverOne(sender, nowMs);
      sent += 1;
    }
    queued.set(sender, sent);
  };

  const reply = (ctx: EventContext, props: Record<string, unknown>): void => {
    const request = ctx.message!;
    ctx.delivery!.accept();
    const replyTo: unknown = request.reply_to;
    const link = typeof replyTo === "string" ? repliesOf(ctx.connection).get(replyTo) : undefined;
    if (!link?.is_open()) return;
    const response: Record<string, unknown> = {
      correlation_id: request.message_id,
      application_properties: props,
    };
    link.send(response as unknown as Message);
  };

  container.on("connection_open", (ctx: EventContext) => {
    connections.add(ctx.connection);
  });
  container.on("disconnected", (ctx: EventContext) => {
    connections.delete(ctx.connection);
  });
  container.on("connection_close", (ctx: EventContext) => {
    connections.delete(ctx.connection);
  });

  // A client sender attached: CBS, management or an entity.
  container.on("receiver_open", (ctx: EventContext) => {
    const link = ctx.receiver!;
    const remote = attachOf(link).remote.attach;
    const address = remote.target?.address ?? "";
    link.set_source((remote.source ?? {}) as Source);
    link.set_target((remote.target ?? {}) as TerminusOptions);
    if (address === "$cbs") {
      roles.set(link, "cbs");
    } else if (address.endsWith("/$management")) {
      roles.set(link, "management");
    } else {
      attachOf(link).local.attach.max_message_size = maxMessageSize;
      roles.set(link, "entity-in");
    }
  });

  // A client receiver attached: a reply link, or a receiver on an entity.
  container.on("sender_open", (ctx: EventContext) => {
    const link = ctx.sender!;
    const { remote, local } = { remote: attachOf(link).remote.attach, local: attachOf(link).local.attach };
    const address = remote.source?.address ?? "";
    link.set_source((remote.source ?? {}) as Source);
    link.set_target((remote.target ?? {}) as TerminusOptions);
    if (address === "$cbs" || address.endsWith("/$management")) {
      roles.set(link, "reply");
      const replies = repliesOf(ctx.connection);
      replies.set(link.name, link);
      if (remote.target?.address) replies.set(remote.target.address, link);
      return;
    }
    local.snd_settle_mode = remote.snd_settle_mode;
    local.rcv_settle_mode = remote.rcv_settle_mode;
    roles.set(link, "entity-out");
  });

  container.on("message", (ctx: EventContext) => {
    const role = roles.get(ctx.receiver!);
    if (role === "entity-in") {
      stats.transfersIn += 1;
      ctx.delivery!.accept();
    } else if (role === "cbs") {
      reply(ctx, { "status-code": types.wrap_int(202), "status-description": "Accepted" });
    } else if (role === "management") {
      reply(ctx, {
        statusCode: types.wrap_int(501),
        statusDescription: "The minimal benchmark server has no management operations.",
        errorCondition: "amqp:not-implemented",
      });
    } else {
      ctx.delivery!.reject({
        condition: "amqp:not-allowed",
        description: "This link does not accept messages.",
      });
    }
  });

  container.on("sendable", (ctx: EventContext) => pump(ctx.sender!));
  // A drain consumes the remaining credit: count it as used, then let rhea answer the drain.
  container.on("sender_draining", (ctx: EventContext) => {
    const sender = ctx.sender!;
    const link = sender as unknown as { credit: number; delivery_count: number };
    queued.set(sender, link.delivery_count + link.credit);
    sender.set_drained(true);
  });

  const settle =
    (outcome: () => Described) =>
    (ctx: EventContext): void => {
      const delivery: Delivery | undefined = ctx.delivery;
      if (!delivery || delivery.settled || roles.get(ctx.sender!) !== "entity-out") return;
      delivery.update(true, outcome().described());
      // Peek-lock links use rcv-settle-mode second: once the sender settles, the client does
      // not announce its own settlement, yet rhea frees an outgoing delivery only when it is
      // settled on both ends. Without this, a link stalls after 2048 deliveries (rhea's session
      // buffer) and `subscribe` stops for good.
      (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
      stats.settled += 1;
    };
  container.on(
    "accepted",
    settle(() => outcomes.accepted()),
  );
  container.on(
    "released",
    settle(() => outcomes.released()),
  );
  container.on(
    "modified",
    settle(() => outcomes.modified()),
  );
  container.on(
    "rejected",
    settle(() => outcomes.rejected()),
  );
  container.on("error", () => undefined);

  const server: Server = container.listen({ port: options.port ?? 0, host });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;

  return {
    host,
    port,
    connectionString: `Endpoint=sb://${host}:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
    stats,
    async close(): Promise<void> {
      for (const c of connections) {
        try {
          c.close({ condition: "amqp:connection:forced", description: "Benchmark server closing." });
        } catch {
          // Already half closed; the socket is destroyed below.
        }
      }
      await new Promise((r) => setTimeout(r, 20));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
