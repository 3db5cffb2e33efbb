/**
 * The HTTP side of the administration API: its own plain port (`--http-port`, 5300 like
 * Microsoft's emulator), plus connections handed over by the AMQP and TLS listeners when they
 * speak HTTP.
 */
import http from "node:http";
import type net from "node:net";
import type { AdminApi } from "./router.js";

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

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          error.code === "EADDRINUSE"
            ? new Error(
                `HTTP port ${port} on ${host} is already in use; choose another with --http-port (0 picks a free one)`,
              )
            : error,
        );
      };
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        this.listening = true;
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    if (!this.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
