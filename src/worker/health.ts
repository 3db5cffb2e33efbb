/**
 * The health endpoints Kubernetes probes:
 * - `GET /livez`: 200 unless a receive loop is wedged (stuck, or stopped trying: restart me);
 * - `GET /readyz`: 200 when every consumer has reached the broker, none is failing now, and the
 *   worker is not draining. A loop that keeps failing against an unreachable namespace is not
 *   ready but live: a restart cannot bring the namespace back (./receiveLoop.ts failureHealth).
 * Both answer JSON with the per-subscription details. Port 0 picks a free port (tests).
 * `GET /metrics` serves the Prometheus text exposition when a metrics source is given.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { LoopHealth } from "./receiveLoop.js";

export interface HealthSource {
  readonly draining: boolean;
  loops(): LoopHealth[];
}

export interface HealthServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function liveness(source: HealthSource): { ok: boolean; loops: LoopHealth[] } {
  const loops = source.loops();
  return { ok: loops.every((l) => !l.wedged), loops };
}

export function readiness(source: HealthSource): { ok: boolean; draining: boolean; loops: LoopHealth[] } {
  const loops = source.loops();
  return {
    ok: !source.draining && loops.length > 0 && loops.every((l) => l.connected && !l.failing),
    draining: source.draining,
    loops,
  };
}

/** What `GET /metrics` serves (src/telemetry/metrics.ts), when given. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

function serveMetrics(metrics: MetricsSource, res: ServerResponse): void {
  metrics.render().then(
    (text) => {
      res.writeHead(200, { "content-type": metrics.contentType, "content-length": Buffer.byteLength(text) });
      res.end(text);
    },
    (error: unknown) => send(res, 500, { error: error instanceof Error ? error.message : String(error) }),
  );
}

export async function startHealthServer(
  source: HealthSource,
  port: number,
  host: string,
  metrics?: MetricsSource,
): Promise<HealthServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "method not allowed" });
    if (path === "/livez") {
      const result = liveness(source);
      return send(res, result.ok ? 200 : 503, result);
    }
    if (path === "/readyz") {
      const result = readiness(source);
      return send(res, result.ok ? 200 : 503, result);
    }
    if (path === "/metrics" && metrics) return serveMetrics(metrics, res);
    return send(res, 404, {
      error: "not found",
      paths: ["/livez", "/readyz", ...(metrics ? ["/metrics"] : [])],
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    host: address.address,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
