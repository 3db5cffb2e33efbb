/**
 * A TCP proxy to a local server that a test can take down and bring back, to play an outage of
 * that server (Redis) without touching the server itself, which other tests share.
 */
import net from "node:net";

export interface TcpProxy {
  /** The port clients connect to; it stays the same across `down()` and `up()`. */
  readonly port: number;
  /** Cuts every open connection and refuses new ones (connection refused, as a dead server). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /**
   * A network partition: open connections stay open and new ones are accepted, but nothing gets
   * through in either direction (held, not dropped: TCP would retransmit it) until `resume()`.
   */
  stall(): void;
  /** Delivers what was held and forwards again. */
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };
  let server: net.Server | undefined;
  let port = 0;
  let stalled = false;
  /** Chunks held while stalled, in order, with the socket each is for. */
  let held: { to: net.Socket; chunk: Buffer }[] = [];
  const forward = (from: net.Socket, to: net.Socket): void => {
    from.on("data", (chunk: Buffer) => {
      if (stalled) held.push({ to, chunk });
      else to.write(chunk);
    });
  };

  const listen = async (): Promise<void> => {
    const s = net.createServer((client) => {
      track(client);
      const upstream = net.connect(targetPort, targetHost);
      track(upstream);
      forward(client, upstream);
      forward(upstream, client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as net.AddressInfo).port;
    server = s;
  };

  const down = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await listen();
  return {
    get port() {
      return port;
    },
    down,
    up: () => (server ? Promise.resolve() : listen()),
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      const queued = held;
      held = [];
      for (const { to, chunk } of queued) if (!to.destroyed) to.write(chunk);
    },
    close: down,
  };
}

/** An emulator connection string pointed at another local port (a proxy in front of it). */
export function viaPort(connectionString: string, port: number): string {
  const via = connectionString.replace(/(Endpoint=sb:\/\/[^:;/]+):\d+/, `$1:${port}`);
  if (via === connectionString) throw new Error("the connection string names no endpoint port");
  return via;
}
