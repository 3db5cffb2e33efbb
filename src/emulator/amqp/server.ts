/**
 * The AMQP 1.0 front end: a rhea container on our own TCP listener, routing each link by its
 * address to CBS, `$management`, an entity's send path or an entity's receive path.
 *
 * Isolation: a handler that throws fails only the link (detach with an error) or the request
 * (error reply); a frame rhea cannot parse closes only that connection. Nothing a client sends
 * can stop the listener or touch another client's links.
 */
import net from "node:net";
import type { Socket } from "node:net";
import type { Clock } from "../clock.js";
import type { Entity } from "../broker/entity.js";
import { BrokerError, Condition, isBrokerError } from "../broker/errors.js";
import type { Namespace, Resolved } from "../broker/namespace.js";
import { Authorizer, hasRight, rightForOperation } from "../auth/authorizer.js";
import type { Grant, Right } from "../auth/authorizer.js";
import { audiencePath } from "./cbs.js";
import { answerDrain, DeliveryLink, toAmqpError } from "./delivery-link.js";
import { handleManagement } from "./management.js";
import { acceptIncoming } from "./incoming.js";
import { message as amqp, rhea, types } from "./rhea.js";
import type { AmqpMessage, RheaConnection, RheaContext, RheaLink } from "./rhea.js";
import { SessionAcceptor } from "./session-accept.js";
import { sniffProtocol } from "../tls/listener.js";

export interface ServerOptions {
  readonly namespace: Namespace;
  readonly clock: Clock;
  readonly sasKeys: Readonly<Record<string, string>> | undefined;
  readonly maxMessageSizeFor: (entityPath: string) => number;
  readonly log: (line: string) => void;
  /** Connections allowed at once (the official emulator allows 10); undefined means no cap. */
  readonly maxConnections?: number | undefined;
  /** Checks tokens and rights (auth/authorizer.ts); by default `sasKeys` decide, as SAS-only checks. */
  readonly authorizer?: Authorizer | undefined;
  /** Connections to the AMQP port that speak HTTP instead (the administration API). */
  readonly onHttpSocket?: ((socket: Socket) => void) | undefined;
}

interface ConnectionState {
  /** Reply links of CBS and `$management`, by link name and by target address. */
  readonly replyLinks: Map<string, RheaLink>;
  /** Receiver links by name, for `associated-link-name` in management requests. */
  readonly deliveryLinks: Map<string, DeliveryLink>;
  /** Entity paths (lower case) this connection holds a valid token for, with what it allows. */
  readonly authorized: Map<string, Grant>;
}

type LinkRole =
  | { kind: "cbs" }
  | { kind: "management"; target: Resolved }
  | { kind: "send"; address: string }
  | { kind: "receive"; delivery: DeliveryLink }
  | { kind: "reply" };

export class AmqpServer {
  private readonly container = rhea.create_container({
    id: "sbworker-emulator",
    sender_options: { treat_modified_as_released: false, autosettle: false },
    receiver_options: { autoaccept: false, credit_window: 1000 },
  }) as unknown as RheaConnection;
  private readonly server: net.Server;
  private readonly sockets = new Set<Socket>();
  private readonly connections = new Set<RheaConnection>();
  private readonly sessions: SessionAcceptor;
  private readonly auth: Authorizer;

  constructor(private readonly o: ServerOptions) {
    this.container.sasl_server_mechanisms.enable_anonymous();
    this.sessions = new SessionAcceptor(o.clock);
    this.auth =
      o.authorizer ??
      new Authorizer({ mode: o.sasKeys ? "sas" : "any", sasKeys: o.sasKeys, clock: o.clock, localHosts: [] });
    const onHttp = o.onHttpSocket;
    this.server = net.createServer((socket) =>
      onHttp ? sniffProtocol(socket, (s) => this.onSocket(s), onHttp) : this.onSocket(socket),
    );
    this.wire();
  }

  /** Serves an AMQP connection accepted by another listener (the TLS one). */
  acceptSocket(socket: Socket): void {
    this.onSocket(socket);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          error.code === "EADDRINUSE"
            ? Object.assign(
                new Error(
                  `port ${port} on ${host} is already in use; choose another with --port (0 picks a free one)`,
                  { cause: error },
                ),
                { code: "EADDRINUSE" },
              )
            : error,
        );
      };
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    this.sessions.close();
    for (const c of this.connections) {
      try {
        c.close({ condition: Condition.connectionForced, description: "The emulator is shutting down." });
      } catch {
        // The connection may already be half closed; the socket is destroyed below anyway.
      }
    }
    await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onSocket(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.once("data", (chunk: Buffer) => {
      // AMQP 1.0 §2.2: answer a protocol header we do not speak with the one we do, then close.
      if (!isAmqpHeader(chunk)) {
        socket.end(SASL_HEADER);
      }
    });
    const connection = this.container.create_connection({ id: undefined });
    // Deliveries stay in rhea's per-session buffer until settled; 2048 (rhea's default) is too
    // few when one long-held lock keeps the buffer's head busy. The buffer grows only as used.
    connection.session_buffer_size = 1 << 16;
    // A frame rhea cannot decode ends this connection only; say why before the socket closes.
    const onInputError = (error: unknown): void => {
      this.o.log(`emulator: protocol error: ${String(error)}`);
      try {
        connection.close({ condition: Condition.decodeError, description: String(error) });
        connection._process();
      } catch {
        // The socket may already be gone; rhea ends it right after this handler anyway.
      }
    };
    connection.on("protocol_error", onInputError);
    connection.on("error", onInputError);
    connection.sbw = {
      replyLinks: new Map(),
      deliveryLinks: new Map(),
      authorized: new Map(),
    } satisfies ConnectionState;
    connection.accept(socket);
    ackPromptly(socket, connection);
  }

  private wire(): void {
    const c = this.container;
    const guard =
      (fn: (ctx: RheaContext) => void) =>
      (ctx: RheaContext): void => {
        try {
          fn(ctx);
        } catch (error) {
          this.o.log(`emulator: handler failed: ${error instanceof Error ? error.stack : String(error)}`);
          try {
            ctx.link?.close(toAmqpError(error));
          } catch {
            // Closing may itself fail on a broken connection; the connection error path cleans up.
          }
        }
      };
    c.on(
      "connection_open",
      guard((ctx) => this.onConnectionOpen(ctx.connection)),
    );
    c.on(
      "connection_close",
      guard((ctx) => this.dropConnection(ctx.connection)),
    );
    c.on(
      "disconnected",
      guard((ctx) => this.dropConnection(ctx.connection)),
    );
    c.on("error", (error: unknown) => this.o.log(`emulator: connection error: ${String(error)}`));
    c.on("protocol_error", (error: unknown) => this.o.log(`emulator: protocol error: ${String(error)}`));
    c.on(
      "receiver_open",
      guard((ctx) => this.onClientSender(ctx)),
    );
    c.on(
      "sender_open",
      guard((ctx) => this.onClientReceiver(ctx)),
    );
    c.on(
      "message",
      guard((ctx) => this.onMessage(ctx)),
    );
    for (const kind of ["accepted", "released", "modified", "rejected"] as const) {
      c.on(
        kind,
        guard(
          (ctx) =>
            (ctx.sender?.sbwRole as LinkRole | undefined)?.kind === "receive" &&
            ctx.sender.sbwRole.delivery.settle(ctx.delivery, kind),
        ),
      );
    }
    c.on(
      "sendable",
      guard((ctx) => this.pumpLink(ctx.sender)),
    );
    c.on(
      "sender_draining",
      guard((ctx) => this.pumpLink(ctx.sender)),
    );
    c.on(
      "sender_close",
      guard((ctx) => this.dropLink(ctx.sender)),
    );
    c.on(
      "receiver_close",
      guard(() => undefined),
    );
    c.on(
      "session_close",
      guard((ctx) => this.dropSession(ctx.session)),
    );
  }

  private onConnectionOpen(connection: RheaConnection): void {
    const max = this.o.maxConnections;
    if (max !== undefined && this.connections.size >= max) {
      connection.close({
        condition: Condition.resourceLimitExceeded,
        description: `The emulator allows at most ${max} connections (--strict-official).`,
      });
      return;
    }
    this.connections.add(connection);
  }

  private state(connection: RheaConnection): ConnectionState {
    return connection.sbw as ConnectionState;
  }

  private dropConnection(connection: RheaConnection): void {
    if (!this.connections.delete(connection)) return;
    const st = this.state(connection);
    for (const d of st.deliveryLinks.values()) d.entity.detach(d);
    st.deliveryLinks.clear();
    this.sessions.cancelFor(connection);
  }

  private dropSession(session: RheaConnection): void {
    for (const link of Object.values<RheaLink>(session.links ?? {})) this.dropLink(link);
  }

  private dropLink(link: RheaLink): void {
    const role = link?.sbwRole as LinkRole | undefined;
    if (role?.kind === "receive") {
      role.delivery.entity.detach(role.delivery);
      this.state(link.connection).deliveryLinks.delete(link.name);
    }
    this.sessions.cancelLink(link);
  }

  private pumpLink(link: RheaLink): void {
    const role = link.sbwRole as LinkRole | undefined;
    if (role?.kind !== "receive") return;
    role.delivery.entity.pump();
    answerDrain(link);
  }

  private refuse(link: RheaLink, error: unknown, asTarget: boolean): void {
    if (asTarget) link.set_target(null);
    else link.local.attach.source = null;
    link.close(toAmqpError(error));
  }

  private checkAuthorized(connection: RheaConnection, address: string, right: Right): void {
    if (!this.auth.enforcing) return;
    const path = audiencePath(address);
    const st = this.state(connection);
    const now = this.o.clock.now();
    for (const [a, grant] of st.authorized) {
      const covers = a === "" || path === a || path.startsWith(`${a}/`);
      if (covers && grant.expiresAt > now && hasRight(grant, right)) return;
    }
    throw new BrokerError(
      Condition.unauthorized,
      `Unauthorized access. '${right}' claim(s) are required to perform this operation on '${address}'.`,
    );
  }

  /** A client sender attached: CBS requests, management requests or messages to an entity. */
  private onClientSender(ctx: RheaContext): void {
    const link = ctx.receiver;
    const address: string = link.remote.attach.target?.address ?? "";
    link.set_source(link.remote.attach.source ?? {});
    link.set_target(link.remote.attach.target ?? {});
    try {
      if (address === "$cbs") {
        link.sbwRole = { kind: "cbs" } satisfies LinkRole;
      } else if (/\/\$management$/i.test(address)) {
        link.sbwRole = { kind: "management", target: this.o.namespace.resolve(address) } satisfies LinkRole;
      } else {
        const target = this.o.namespace.resolve(address);
        if (target.kind !== "queue" && target.kind !== "topic") {
          throw new BrokerError(
            Condition.notAllowed,
            `Cannot send to '${address}': only queues and topics accept messages.`,
          );
        }
        this.checkAuthorized(ctx.connection, address, "Send");
        link.local.attach.max_message_size = this.o.maxMessageSizeFor(address);
        link.sbwRole = { kind: "send", address } satisfies LinkRole;
      }
    } catch (error) {
      this.refuse(link, error, true);
    }
  }

  /** A client receiver attached: a reply link, or a receiver on a queue, subscription or DLQ. */
  private onClientReceiver(ctx: RheaContext): void {
    const link = ctx.sender;
    const remote = link.remote.attach;
    const address: string = remote.source?.address ?? "";
    const st = this.state(ctx.connection);
    link.set_target(remote.target ?? {});
    if (address === "$cbs" || /\/\$management$/i.test(address)) {
      link.set_source(remote.source ?? {});
      link.sbwRole = { kind: "reply" } satisfies LinkRole;
      st.replyLinks.set(link.name, link);
      if (remote.target?.address) st.replyLinks.set(remote.target.address, link);
      return;
    }
    let entity: Entity;
    try {
      const target = this.o.namespace.resolve(address);
      if (!("entity" in target))
        throw new BrokerError(
          Condition.notAllowed,
          `Cannot receive from topic '${address}'; receive from a subscription.`,
        );
      entity = target.entity;
      this.checkAuthorized(ctx.connection, address, "Listen");
    } catch (error) {
      this.refuse(link, error, false);
      return;
    }
    const receiveAndDelete = remote.snd_settle_mode === 1;
    link.local.attach.snd_settle_mode = remote.snd_settle_mode;
    link.local.attach.rcv_settle_mode = remote.rcv_settle_mode;
    const filter = remote.source?.filter as Record<string, unknown> | undefined;
    const wantsSession = filter !== undefined && "com.microsoft:session-filter" in filter;
    if (!wantsSession) {
      link.set_source(remote.source ?? {});
      if (entity.requiresSession) {
        this.refuse(
          link,
          new BrokerError(
            Condition.notAllowed,
            `It is not possible for an entity that requires sessions to create a non-sessionful message receiver ('${address}').`,
          ),
          false,
        );
        return;
      }
      this.startDelivering(link, entity, undefined, receiveAndDelete);
      return;
    }
    const requested = filter["com.microsoft:session-filter"];
    const timeoutMs = Number(
      (remote.properties as Record<string, unknown> | undefined)?.["com.microsoft:timeout"] ?? 60_000,
    );
    this.sessions.accept({
      link,
      entity,
      sessionId: typeof requested === "string" ? requested : undefined,
      timeoutMs,
      onGranted: (sessionId, lockedUntil) => {
        link.set_source({ ...remote.source, filter: { "com.microsoft:session-filter": sessionId } });
        link.local.attach.properties = {
          "com.microsoft:locked-until-utc": types.wrap_long(dotnetTicks(lockedUntil)),
        };
        return this.startDelivering(link, entity, sessionId, receiveAndDelete);
      },
    });
  }

  private startDelivering(
    link: RheaLink,
    entity: Entity,
    sessionId: string | undefined,
    rnd: boolean,
  ): DeliveryLink {
    const delivery = new DeliveryLink(link, entity, sessionId, rnd);
    link.sbwRole = { kind: "receive", delivery } satisfies LinkRole;
    this.state(link.connection).deliveryLinks.set(link.name, delivery);
    entity.attach(delivery);
    return delivery;
  }

  private onMessage(ctx: RheaContext): void {
    const link = ctx.receiver;
    const role = link.sbwRole as LinkRole | undefined;
    if (role?.kind === "send") {
      acceptIncoming(this.o.namespace, role.address, ctx, this.o.maxMessageSizeFor(role.address));
    } else if (role?.kind === "cbs") {
      this.onPutToken(ctx);
    } else if (role?.kind === "management") {
      this.onManagement(ctx, role.target);
    } else {
      ctx.delivery.reject({
        condition: Condition.notAllowed,
        description: "This link does not accept messages.",
      });
    }
  }

  private reply(
    ctx: RheaContext,
    request: AmqpMessage,
    props: Record<string, unknown>,
    body?: unknown,
  ): void {
    ctx.delivery.accept();
    const replyTo = request.reply_to;
    const link = replyTo === undefined ? undefined : this.state(ctx.connection).replyLinks.get(replyTo);
    if (!link || !link.is_open()) return; // The requester went away; nothing to answer.
    const response: AmqpMessage = { correlation_id: request.message_id, application_properties: props };
    if (body !== undefined) response.body = body;
    link.send(response);
  }

  private onPutToken(ctx: RheaContext): void {
    const request = ctx.message as AmqpMessage;
    const app = request.application_properties ?? {};
    const audience = text(app.name);
    const status = (code: number, description: string, condition?: string): Record<string, unknown> => ({
      "status-code": types.wrap_int(code),
      "status-description": description,
      ...(condition ? { "error-condition": condition } : {}),
    });
    try {
      if (app.operation !== "put-token")
        throw new BrokerError(
          Condition.notImplemented,
          `Unsupported CBS operation '${String(app.operation)}'.`,
        );
      const path = audiencePath(audience);
      if (path !== "") this.o.namespace.resolve(path);
      const verdict = this.auth.cbs({ audience, type: text(app.type), token: text(request.body) });
      if (!verdict.ok) {
        this.reply(ctx, request, status(401, verdict.reason, Condition.unauthorized));
        return;
      }
      this.state(ctx.connection).authorized.set(path, verdict.grant);
      this.reply(ctx, request, status(202, "Accepted"));
    } catch (error) {
      const e = isBrokerError(error) ? error : new BrokerError(Condition.internal, String(error));
      this.reply(ctx, request, status(e.statusCode, e.message, e.condition));
    }
  }

  private onManagement(ctx: RheaContext, target: Resolved): void {
    const request = ctx.message as AmqpMessage;
    const app = request.application_properties ?? {};
    const linkName = app["associated-link-name"];
    const owner =
      typeof linkName === "string"
        ? this.state(ctx.connection).deliveryLinks.get(linkName)?.owner
        : undefined;
    try {
      const body = request.body;
      if (
        body !== undefined &&
        body !== null &&
        (typeof body !== "object" || Array.isArray(body) || Buffer.isBuffer(body))
      ) {
        throw new BrokerError(Condition.argumentError, "The request body must be a map.");
      }
      const address: string = ctx.receiver.remote.attach.target?.address ?? "";
      this.checkAuthorized(ctx.connection, address, rightForOperation(text(app.operation)));
      const result = handleManagement(this.o.namespace, target, {
        operation: text(app.operation),
        body: (body ?? {}) as Record<string, unknown>,
        owner,
      });
      this.reply(
        ctx,
        request,
        {
          statusCode: types.wrap_int(result.status),
          statusDescription: result.status === 204 ? "No Content" : "OK",
        },
        result.body,
      );
    } catch (error) {
      const e = isBrokerError(error)
        ? error
        : new BrokerError(Condition.internal, error instanceof Error ? error.message : String(error));
      this.reply(ctx, request, {
        statusCode: types.wrap_int(e.statusCode),
        statusDescription: e.message,
        errorCondition: e.condition,
      });
    }
  }
}

/** An AMQP empty frame (a heartbeat): 8 bytes, channel 0, valid at any time after open. */
const EMPTY_FRAME = Buffer.from([0, 0, 0, 8, 2, 0, 0, 0]);

/**
 * The SDK's socket has Nagle on (rhea-promise attaches links without setting no-delay), so a small
 * frame it writes while its previous one is unacknowledged waits for our delayed ACK, about 40 ms:
 * the drain at the end of every empty `receiveMessages`, for one. When a read leaves us nothing to
 * answer, an empty frame (any bytes) carries the ACK at once. Our own side has no-delay on.
 */
function ackPromptly(socket: Socket, connection: RheaConnection): void {
  socket.setNoDelay(true);
  let written = -1; // bytes written when the first unanswered read arrived; -1: no check pending
  const check = (): void => {
    if (socket.bytesWritten === written && socket.writable && connection.is_open()) socket.write(EMPTY_FRAME);
    written = -1;
  };
  socket.on("data", () => {
    // One check per turn of the event loop however many reads arrive (a large batch is several).
    if (written !== -1) return;
    written = socket.bytesWritten;
    setImmediate(check);
  });
}

const SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);

function isAmqpHeader(chunk: Buffer): boolean {
  if (chunk.length < 8)
    return chunk.subarray(0, 4).toString("latin1") === "AMQP".slice(0, Math.min(4, chunk.length));
  return (
    chunk.subarray(0, 4).toString("latin1") === "AMQP" && (chunk[4] === 0 || chunk[4] === 3) && chunk[5] === 1
  );
}

function text(v: unknown): string {
  return typeof v === "string" ? v : "";
}

const TICKS_AT_EPOCH = 621_355_968_000_000_000n;

/** .NET ticks (100 ns since 0001-01-01) as an 8-byte big-endian long, which the SDK requires. */
export function dotnetTicks(epochMs: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(Math.round(epochMs)) * 10_000n + TICKS_AT_EPOCH);
  return b;
}

export { amqp };
