/**
 * One port, two protocols: a connection whose first bytes are an HTTP request line goes to the
 * administration API, anything else to the AMQP server (which answers a foreign protocol header
 * itself). This lets `ServiceBusClient(namespace, credential)` and
 * `ServiceBusAdministrationClient(namespace, credential)` share one `host:port`, as they do against Azure (AMQPS 5671 vs HTTPS 443 there;
 * the SDK derives both from the same namespace string).
 */
import type { Socket } from "node:net";
import tls from "node:tls";
import type { TlsMaterial } from "./certs.js";
import { listenOn } from "../listen.js";

/** An HTTP request line starts with one of these; anything else is treated as AMQP. */
const HTTP_METHOD = /^(?:GET|PUT|POST|DELETE|HEAD|OPTIONS|PATCH) /;

/** Waits for the first bytes, puts them back, and hands the socket to the matching handler. */
export function sniffProtocol(socket: Socket, amqp: (s: Socket) => void, http: (s: Socket) => void): void {
  const onError = (): void => {
    socket.destroy();
  };
  socket.on("error", onError);
  socket.once("data", (chunk: Buffer) => {
    socket.pause();
    socket.unshift(chunk);
    socket.off("error", onError);
    (HTTP_METHOD.test(chunk.subarray(0, 8).toString("latin1")) ? http : amqp)(socket);
    socket.resume();
  });
}

/** The TLS listener: AMQPS and HTTPS on one port. */
export class TlsListener {
  private readonly server: tls.Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    material: TlsMaterial,
    amqp: (s: Socket) => void,
    http: (s: Socket) => void,
    log: (line: string) => void,
  ) {
    this.server = tls.createServer({ key: material.key, cert: material.cert }, (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      sniffProtocol(socket, amqp, http);
    });
    this.server.on("tlsClientError", (error) => log(`emulator: TLS handshake failed: ${error.message}`));
  }

  listen(port: number, host: string): Promise<number> {
    return listenOn(this.server, port, host, { name: "TLS port", flag: "--tls-port" });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
