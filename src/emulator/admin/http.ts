/**
 * The HTTP side of the administration API: its own plain port (`--http-port`, 5300 like
 * Microsoft's emulator), plus connections handed over by the AMQP and TLS listeners when they
 * speak HTTP.
 */
import http from "node:http";
import type net from "node:net";
import type { AdminApi } from "./router.js";
import { listenOn } from "../listen.js";

export class AdminHttpServer {
  private readonly server: http.Server;
  private listening = false;

  constructor(api: AdminApi) {
    this.server = http.createServer((req, res) => api.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /** Serves a connection accepted elsewhere (already past TLS, first bytes put back). */
  acceptSocket(socket: net.Socket): void {
    this.server.emit("connection", socket);
  }

  async listen(port: number, host: string): Promise<number> {
    const bound = await listenOn(this.server, port, host, { name: "HTTP port", flag: "--http-port" });
    this.listening = true;
    return bound;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    if (!this.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
