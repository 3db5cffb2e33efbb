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
import { BrokerError, Condition } from "../broker/errors.js";
import type { Namespace, Resolved } from "../broker/namespace.js";
import { Authorizer } from "../auth/authorizer.js";
import { attachState, checkAuthorized, stateOf } from "./connection-state.js";
import { answerDrain, DeliveryLink, toAmqpError } from "./delivery-link.js";
import { acceptIncoming } from "./incoming.js";
import { answerManagement, answerPutToken, type RequestDeps } from "./requests.js";
import { message as amqp, rhea, types } from "./rhea.js";
import type { RheaConnection, RheaContext, RheaLink } from "./rhea.js";
import { ackPromptly, answerForeignHeader } from "./socket.js";
import { SessionAcceptor } from "./session-accept.js";
import { sniffProtocol } from "../tls/listener.js";
import { listenOn } from "../listen.js";

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
  private readonly requests: RequestDeps;

  constructor(private readonly o: ServerOptions) {
    this.container.sasl_server_mechanisms.enable_anonymous();
    this.sessions = new SessionAcceptor(o.clock);
    this.auth =
      o.authorizer ??
      new Authorizer({ mode: o.sasKeys ? "sas" : "any", sasKeys: o.sasKeys, clock: o.clock, localHosts: [] });
    this.requests = { namespace: o.namespace, auth: this.auth, clock: o.clock };
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
    return listenOn(this.server, port, host, { name: "port", flag: "--port" });
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
    answerForeignHeader(socket);
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
    attachState(connection);
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

  private dropConnection(connection: RheaConnection): void {
    if (!this.connections.delete(connection)) return;
    const st = stateOf(connection);
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
      stateOf(link.connection).deliveryLinks.delete(link.name);
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
        checkAuthorized(this.auth, this.o.clock, ctx.connection, address, "Send");
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
    const st = stateOf(ctx.connection);
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
      checkAuthorized(this.auth, this.o.clock, ctx.connection, address, "Listen");
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
    stateOf(link.connection).deliveryLinks.set(link.name, delivery);
    entity.attach(delivery);
    return delivery;
  }

  private onMessage(ctx: RheaContext): void {
    const link = ctx.receiver;
    const role = link.sbwRole as LinkRole | undefined;
    if (role?.kind === "send") {
      acceptIncoming(this.o.namespace, role.address, ctx, this.o.maxMessageSizeFor(role.address));
    } else if (role?.kind === "cbs") {
      answerPutToken(this.requests, ctx);
    } else if (role?.kind === "management") {
      answerManagement(this.requests, ctx, role.target);
    } else {
      ctx.delivery.reject({
        condition: Condition.notAllowed,
        description: "This link does not accept messages.",
      });
    }
  }
}

const TICKS_AT_EPOCH = 621_355_968_000_000_000n;

/** .NET ticks (100 ns since 0001-01-01) as an 8-byte big-endian long, which the SDK requires. */
export function dotnetTicks(epochMs: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(Math.round(epochMs)) * 10_000n + TICKS_AT_EPOCH);
  return b;
}

export { amqp };
