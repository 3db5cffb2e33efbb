/**
 * An example foreground service: a small HTTP API that puts work on the bus with the publisher,
 * so an end-to-end trace starts at a real HTTP request (docs/telemetry.md draws it).
 *
 *   POST /orders   an OrderPlaced (fields left out get example values) → topic `orders`
 *   POST /reports  a ReportRequested, optionally `"runAt": "<ISO time>"` → topic `reports`,
 *                  scheduled when `runAt` is given
 *
 * The `Idempotency-Key` request header becomes the message's idempotency key, so a client that
 * retries the same request publishes the same MessageId (absorbed by duplicate detection). The
 * answer is 202 with the MessageId and the trace id to look up.
 *
 * Each request gets a SERVER span made with the OpenTelemetry API (no HTTP instrumentation
 * package is installed), continuing an incoming `traceparent` when the caller sent one; the
 * publish's PRODUCER span is its child.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  context,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { Logger } from "pino";
import { isPublishError, type Published, type PublishOptions } from "../../publisher/index.js";
import { sbworkerTracer } from "../../telemetry/spans.js";

/** What the API needs of a publisher (any `Publisher` whose topology has `orders` and `reports`). */
export interface ApiPublisher {
  publish(topic: string, subject: string, payload: unknown, options?: PublishOptions): Promise<Published>;
}

export interface ExampleApiOptions {
  readonly publisher: ApiPublisher;
  readonly log: Logger;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly host?: string;
}

export interface ExampleApi {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY) throw new HttpError(413, "body too large");
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new HttpError(400, "body must be a JSON object");
  return value as Record<string, unknown>;
}

/** Example values for the fields a caller left out, so `curl -d '{}'` works. */
function orderFrom(body: Record<string, unknown>): Record<string, unknown> {
  return {
    orderId: `o-${randomUUID().slice(0, 8)}`,
    customerId: "c-1",
    email: "customer@example.com",
    items: [{ sku: "sku-1", quantity: 1, unitPrice: 10 }],
    total: 10,
    currency: "EUR",
    placedAt: new Date().toISOString(),
    ...body,
  };
}

function reportFrom(body: Record<string, unknown>): { payload: Record<string, unknown>; runAt?: Date } {
  const { runAt, ...rest } = body;
  let at: Date | undefined;
  if (runAt !== undefined) {
    at = typeof runAt === "string" ? new Date(runAt) : undefined;
    if (!at || !Number.isFinite(at.getTime())) throw new HttpError(400, "runAt must be an ISO date-time");
  }
  return {
    payload: { reportId: `r-${randomUUID().slice(0, 8)}`, kind: "sales", rows: 5_000, ...rest },
    ...(at ? { runAt: at } : {}),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const ROUTES = ["/orders", "/reports"] as const;
type Route = (typeof ROUTES)[number];

export async function startExampleApi(options: ExampleApiOptions): Promise<ExampleApi> {
  const { publisher, log } = options;
  const tracer = sbworkerTracer();

  const route = async (path: Route, req: IncomingMessage): Promise<{ status: number; body: unknown }> => {
    const body = await readJson(req);
    const header = req.headers["idempotency-key"];
    const idempotencyKey = typeof header === "string" && header.length > 0 ? header : undefined;
    const common: PublishOptions = idempotencyKey ? { idempotencyKey } : {};
    let published: Published;
    if (path === "/orders") {
      published = await publisher.publish("orders", "OrderPlaced", orderFrom(body), common);
    } else {
      const { payload, runAt } = reportFrom(body);
      published = await publisher.publish("reports", "ReportRequested", payload, {
        ...common,
        ...(runAt ? { scheduledAt: runAt } : {}),
      });
    }
    log.info({ path, messageId: published.messageId }, "published");
    return { status: 202, body: published };
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const known = ROUTES.find((r) => r === path);
    if (!known || req.method !== "POST") {
      return send(res, known ? 405 : 404, { error: known ? "use POST" : "not found", routes: ROUTES });
    }
    // Continue the caller's trace when it sent a traceparent (global propagator: W3C).
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      `POST ${known}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": "POST",
          "http.route": known,
          "url.path": path,
          "url.scheme": "http",
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    void context.with(active, async () => {
      let status = 500;
      try {
        const result = await route(known, req);
        status = result.status;
        const sc = span.spanContext();
        send(res, status, {
          ...(result.body as object),
          ...(isSpanContextValid(sc) ? { traceId: sc.traceId } : {}),
        });
      } catch (error) {
        status =
          error instanceof HttpError
            ? error.status
            : isPublishError(error) &&
                ["InvalidPayload", "InvalidOptions", "UnknownSubject"].includes(error.code)
              ? 400
              : 503;
        const message = error instanceof Error ? error.message : String(error);
        if (status >= 500) {
          log.error({ err: error, path }, "publish failed");
          span.recordException(error instanceof Error ? error : new Error(message));
          span.setStatus({ code: SpanStatusCode.ERROR, message });
        }
        send(res, status, { error: message, ...(isPublishError(error) ? { code: error.code } : {}) });
      } finally {
        span.setAttribute("http.response.status_code", status);
        span.end();
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    port: address.port,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The curl lines `npm start` prints. */
export function tryIt(url: string): string[] {
  return [
    `curl -s -X POST ${url}/orders -H 'content-type: application/json' -H 'Idempotency-Key: req-1' -d '{}'`,
    `curl -s -X POST ${url}/reports -H 'content-type: application/json' -d '{"rows": 2000}'`,
  ];
}
