import assert from "node:assert/strict";
import {
  isTelemetryConfigError,
  startTelemetry,
  telemetrySettings,
  TelemetryConfigError,
} from "../../../src/telemetry/setup.js";
import { workerTelemetrySettings } from "../../../src/telemetry/worker.js";

describe("telemetry: settings from OTEL_* variables", () => {
  it("is off with no endpoint, and startTelemetry loads nothing then", async () => {
    const settings = telemetrySettings({});
    assert.equal(settings.exporter, undefined);
    assert.equal(settings.serviceName, "sbworker");
    assert.deepEqual(settings.sampler, { name: "parentbased_always_on", ratio: 1 });
    const telemetry = await startTelemetry({});
    assert.equal(telemetry.enabled, false);
    await telemetry.shutdown();
  });

  it("appends /v1/traces to the base endpoint and uses the traces endpoint as is", () => {
    assert.equal(
      telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).exporter?.url,
      "http://collector:4318/v1/traces",
    );
    assert.equal(
      telemetrySettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:4318/custom",
      }).exporter?.url,
      "http://b:4318/custom",
    );
  });

  it("defaults to http/protobuf, accepts http/json, and parses headers", () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
    assert.equal(telemetrySettings(base).exporter?.protocol, "http/protobuf");
    const json = telemetrySettings({
      ...base,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=a%20b,x=1",
    });
    assert.equal(json.exporter?.protocol, "http/json");
    assert.deepEqual(json.exporter?.headers, { "api-key": "a b", x: "1" });
  });

  it("is off when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none", () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
    assert.equal(telemetrySettings({ ...base, OTEL_SDK_DISABLED: "true" }).exporter, undefined);
    assert.equal(telemetrySettings({ ...base, OTEL_TRACES_EXPORTER: "none" }).exporter, undefined);
  });

  it("reads the sampler, the parent mode and the semconv opt-in", () => {
    const s = telemetrySettings({
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.1",
      SBW_TRACE_PARENT_FROM_MESSAGE: "true",
      SBW_TRACE_SETTLEMENT: "span",
      OTEL_SEMCONV_STABILITY_OPT_IN: "http,messaging/dup",
      OTEL_SERVICE_NAME: "orders-api",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    assert.deepEqual(s.sampler, { name: "parentbased_traceidratio", ratio: 0.1 });
    for (const [arg, ratio] of [
      ["0", 0],
      ["1", 1],
    ] as const)
      assert.equal(
        telemetrySettings({ OTEL_TRACES_SAMPLER_ARG: arg }).sampler.ratio,
        ratio,
        "the ends are valid",
      );
    assert.equal(s.parentFromMessage, true);
    assert.equal(s.settlement, "span");
    assert.equal(telemetrySettings({}).settlement, "event");
    assert.equal(telemetrySettings({}).context, "async-local-storage");
    assert.equal(telemetrySettings({ SBW_TRACE_CONTEXT: "promise" }).context, "promise");
    assert.equal(s.dup, true);
    assert.equal(s.serviceName, "orders-api");
    assert.deepEqual(s.batch, { scheduledDelayMillis: 100 });
  });

  it("reports every bad setting at once", () => {
    let error: unknown;
    try {
      telemetrySettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
        OTEL_TRACES_SAMPLER: "sometimes",
        OTEL_TRACES_SAMPLER_ARG: "2",
        SBW_TRACE_PARENT_FROM_MESSAGE: "yes",
        SBW_TRACE_SETTLEMENT: "both",
        SBW_TRACE_CONTEXT: "zone",
        OTEL_BSP_SCHEDULE_DELAY: "-1",
      });
    } catch (e) {
      error = e;
    }
    assert.ok(isTelemetryConfigError(error));
    assert.ok(error instanceof TelemetryConfigError);
    assert.equal(error.issues.length, 8, error.issues.join("\n"));
    assert.ok(error.issues.includes('SBW_TRACE_SETTLEMENT: expected event or span, got "both"'));
    assert.ok(
      error.issues.includes('SBW_TRACE_CONTEXT: expected async-local-storage or promise, got "zone"'),
    );
    assert.match(error.issues[1]!, /grpc is not bundled/);
  });

  it("reads the worker's metric switches", () => {
    assert.deepEqual(workerTelemetrySettings({}), {
      metrics: true,
      processMetrics: true,
      queueMetrics: false,
      queueMetricsIntervalMs: 30_000,
    });
    assert.equal(workerTelemetrySettings({ SBW_QUEUE_METRICS: "true" }).queueMetrics, true);
    assert.throws(
      () => workerTelemetrySettings({ SBW_METRICS: "on" }),
      /SBW_METRICS: expected true or false/,
    );
  });
});

describe("telemetry: the context manager SBW_TRACE_CONTEXT names", () => {
  /** What a timer callback scheduled inside a context sees: only AsyncLocalStorage follows it. */
  async function contextSeen(env: Record<string, string>) {
    const { context, createContextKey, ROOT_CONTEXT } = await import("@opentelemetry/api");
    const { InMemorySpanExporter, SimpleSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
    const telemetry = await startTelemetry(env, {
      spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
    });
    try {
      const key = createContextKey("k");
      return await context.with(ROOT_CONTEXT.setValue(key, "job"), async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const afterAwait = context.active().getValue(key);
        const inTimer = await new Promise((resolve) =>
          setTimeout(() => resolve(context.active().getValue(key)), 1),
        );
        return { afterAwait, inTimer };
      });
    } finally {
      await telemetry.shutdown();
    }
  }

  it("is OpenTelemetry's AsyncLocalStorage manager by default: timers keep the context too", async () => {
    assert.deepEqual(await contextSeen({}), { afterAwait: "job", inTimer: "job" });
  });

  it("is the promise-hook manager with SBW_TRACE_CONTEXT=promise: awaits keep it, a bare timer does not", async () => {
    assert.deepEqual(await contextSeen({ SBW_TRACE_CONTEXT: "promise" }), {
      afterAwait: "job",
      inTimer: undefined,
    });
  });
});

describe("telemetry: startTelemetry options", () => {
  it("registers the given context manager instead of AsyncLocalStorage, and unregisters it on shutdown", async () => {
    const { context, createContextKey, ROOT_CONTEXT } = await import("@opentelemetry/api");
    const { InMemorySpanExporter, SimpleSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
    const calls: string[] = [];
    let current = ROOT_CONTEXT;
    const manager = {
      active: () => current,
      with: <A extends unknown[], F extends (...args: A) => ReturnType<F>>(
        ctx: typeof ROOT_CONTEXT,
        fn: F,
        thisArg?: ThisParameterType<F>,
        ...args: A
      ): ReturnType<F> => {
        calls.push("with");
        const previous = current;
        current = ctx;
        try {
          return fn.call(thisArg, ...args);
        } finally {
          current = previous;
        }
      },
      bind: <T>(_ctx: typeof ROOT_CONTEXT, target: T): T => target,
      enable() {
        calls.push("enable");
        return this;
      },
      disable() {
        calls.push("disable");
        return this;
      },
    };
    const telemetry = await startTelemetry(
      {},
      { spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())], contextManager: manager },
    );
    try {
      const key = createContextKey("k");
      const seen = context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key));
      assert.equal(seen, 1);
      assert.ok(calls.includes("with"));
    } finally {
      await telemetry.shutdown();
    }
    assert.ok(calls.includes("disable"));
  });
});
