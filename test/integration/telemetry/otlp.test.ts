import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startTelemetry, type Telemetry } from "../../../src/telemetry/setup.js";
import { eventually } from "../worker/helpers.js";
import { handlers, startStack, type Stack } from "./helpers.js";

interface Received {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** A tiny OTLP/HTTP receiver: records every request and answers 200 with an empty response. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const contentType = req.headers["content-type"] ?? "";
      received.push({ path: req.url ?? "", contentType, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": contentType.includes("json") ? "application/json" : contentType });
      res.end(contentType.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number };
}
interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  attributes: OtlpAttribute[];
}
interface OtlpJson {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

describe("telemetry: the OTLP/HTTP exporter against a receiver", function () {
  this.timeout(30_000);
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let telemetry: Telemetry | undefined;
  let stack: Stack | undefined;

  beforeEach(async () => (receiver = await startReceiver()));
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    await telemetry?.shutdown();
    telemetry = undefined;
    await receiver.close();
  });

  async function run(protocol: "http/json" | "http/protobuf"): Promise<void> {
    telemetry = await startTelemetry({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=secret",
      OTEL_SERVICE_NAME: "sbworker-test",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    assert.equal(telemetry.enabled, true);
    stack = await startStack(handlers());
    await stack.post("/reports", { rows: 10 });
    await stack.recorder.until(() =>
      stack!.recorder.settledEvents.some((e) => e.subscription === "generate"),
    );
  }

  it("receives the worker's spans as OTLP/JSON on /v1/traces", async () => {
    await run("http/json");
    await eventually(() => receiver.received.some((r) => r.body.includes("process reports/generate")));
    const request = receiver.received.find((r) => r.body.includes("process reports/generate"))!;
    assert.equal(request.path, "/v1/traces");
    assert.match(request.contentType, /application\/json/);
    const json = JSON.parse(request.body.toString()) as OtlpJson;
    const resource = json.resourceSpans[0]!.resource.attributes;
    assert.equal(resource.find((a) => a.key === "service.name")?.value.stringValue, "sbworker-test");
    const spans = json.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const process = spans.find((s) => s.name === "process reports/generate")!;
    assert.equal(process.kind, 5, "SPAN_KIND_CONSUMER");
    const attr = (key: string) => process.attributes.find((a) => a.key === key)?.value;
    assert.equal(attr("messaging.system")?.stringValue, "servicebus");
    assert.equal(attr("messaging.destination.subscription.name")?.stringValue, "generate");
    assert.equal(attr("messaging.operation.type")?.stringValue, "process");
  });

  it("receives them as OTLP/protobuf by default protocol name http/protobuf", async () => {
    await run("http/protobuf");
    await telemetry!.flush();
    await eventually(() => receiver.received.some((r) => r.body.includes("process reports/generate")));
    const request = receiver.received.find((r) => r.body.includes("process reports/generate"))!;
    assert.equal(request.path, "/v1/traces");
    assert.equal(request.contentType, "application/x-protobuf");
    assert.ok(request.body.includes("messaging.destination.subscription.name"));
  });
});
