/**
 * Tracing setup: `@opentelemetry/sdk-node` with an OTLP/HTTP trace exporter, configured by the
 * standard variables, read from the environment given (not `process.env`, so tests and commands
 * can pass their own):
 *
 * | variable                                   | effect                                                       |
 * |--------------------------------------------|--------------------------------------------------------------|
 * | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`       | the traces URL, used as is                                   |
 * | `OTEL_EXPORTER_OTLP_ENDPOINT`              | base URL; `/v1/traces` is appended                           |
 * | `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`     | `http/protobuf` (default, per the spec) or `http/json`       |
 * | `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`      | `k=v,k2=v2` (URL-encoded values)                             |
 * | `OTEL_SERVICE_NAME`                        | default `sbworker`                                           |
 * | `OTEL_TRACES_SAMPLER`, `..._SAMPLER_ARG`   | always_on, always_off, traceidratio, parentbased_* (default parentbased_always_on) |
 * | `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_*`| batch span processor                                         |
 * | `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none` | off                                               |
 * | `SBW_TRACE_PARENT_FROM_MESSAGE=true`       | worker spans are children of the publisher's (./tracing.ts)  |
 * | `SBW_TRACE_SETTLEMENT=event\|span`         | a settlement as an event (default) or a child span (./tracing.ts) |
 * | `SBW_TRACE_CONTEXT=async-local-storage\|promise` | how the active span follows async code (./promiseContext.ts) |
 * | `OTEL_SEMCONV_STABILITY_OPT_IN=messaging/dup` | also emit the renamed attributes (./attributes.ts)        |
 *
 * With no endpoint tracing is off cleanly: the SDK is not even loaded, spans are non-recording.
 * Metrics are Prometheus (./metrics.ts) and logs are pino JSON on stdout, so the SDK's metric and
 * log pipelines are turned off explicitly (their env defaults would push OTLP).
 *
 * `http/protobuf` uses `@opentelemetry/exporter-trace-otlp-proto`, which `@opentelemetry/sdk-node`
 * depends on (same pinned version as `exporter-trace-otlp-http`), loaded only when chosen.
 *
 * ESM order: `src/main.ts` starts this before it imports the CLI (and with it `@azure/service-bus`),
 * so the global tracer provider and context manager exist before any module asks for a tracer.
 */
import type { ContextManager } from "@opentelemetry/api";
import type { Sampler, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { dupRequested } from "./attributes.js";
import type { SettlementRecording } from "./tracing.js";

type Env = Readonly<Record<string, string | undefined>>;

/** Time the exporter gets on shutdown; src/deploy/timing.ts budgets the same (TELEMETRY_FLUSH_MS). */
export const TELEMETRY_FLUSH_MS = 10_000;

/** How the active context follows async code (`SBW_TRACE_CONTEXT`). */
export type ContextPropagation = "promise" | "async-local-storage";

export type OtlpProtocol = "http/protobuf" | "http/json";
export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

const SAMPLERS: readonly SamplerName[] = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
];

export interface TelemetrySettings {
  /** Undefined: no exporter (tracing off unless span processors are passed in). */
  readonly exporter:
    | { readonly url: string; readonly protocol: OtlpProtocol; readonly headers: Record<string, string> }
    | undefined;
  readonly serviceName: string;
  readonly sampler: { readonly name: SamplerName; readonly ratio: number };
  readonly batch: {
    readonly scheduledDelayMillis?: number;
    readonly maxQueueSize?: number;
    readonly maxExportBatchSize?: number;
    readonly exportTimeoutMillis?: number;
  };
  readonly parentFromMessage: boolean;
  readonly settlement: SettlementRecording;
  readonly dup: boolean;
  readonly context: ContextPropagation;
}

export class TelemetryConfigError extends Error {
  readonly code = "TelemetryConfigError";
  constructor(readonly issues: readonly string[]) {
    super(issues.join("; "));
    this.name = "TelemetryConfigError";
  }
}

export function isTelemetryConfigError(error: unknown): error is TelemetryConfigError {
  return error instanceof TelemetryConfigError;
}

const value = (env: Env, key: string): string | undefined => {
  const v = env[key]?.trim();
  return v === undefined || v === "" ? undefined : v;
};

function parseHeaders(text: string | undefined, issues: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      issues.push(`OTEL_EXPORTER_OTLP_HEADERS: expected key=value pairs, got "${pair.trim()}"`);
      continue;
    }
    headers[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return headers;
}

/** Reads the settings; every problem is reported at once (a TelemetryConfigError). */
export function telemetrySettings(env: Env): TelemetrySettings {
  const issues: string[] = [];
  const disabled =
    value(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true" ||
    (value(env, "OTEL_TRACES_EXPORTER") ?? "otlp")
      .split(",")
      .map((s) => s.trim())
      .includes("none");

  const tracesEndpoint = value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const baseEndpoint = value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  const url = tracesEndpoint ?? (baseEndpoint ? `${baseEndpoint.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (url !== undefined && !/^https?:\/\/\S+$/.test(url))
    issues.push(`OTEL_EXPORTER_OTLP_ENDPOINT: expected an http(s) URL, got "${url}"`);

  const protocolText =
    value(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? value(env, "OTEL_EXPORTER_OTLP_PROTOCOL");
  let protocol: OtlpProtocol = "http/protobuf";
  if (protocolText === "http/json" || protocolText === "http/protobuf") protocol = protocolText;
  else if (protocolText !== undefined)
    issues.push(
      `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: expected http/protobuf or http/json (grpc is not bundled), got "${protocolText}"`,
    );

  const headers = {
    ...parseHeaders(value(env, "OTEL_EXPORTER_OTLP_HEADERS"), issues),
    ...parseHeaders(value(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"), issues),
  };

  const samplerText = value(env, "OTEL_TRACES_SAMPLER") ?? "parentbased_always_on";
  const samplerName = SAMPLERS.find((s) => s === samplerText);
  if (!samplerName)
    issues.push(`OTEL_TRACES_SAMPLER: expected one of ${SAMPLERS.join(", ")}, got "${samplerText}"`);
  const ratioText = value(env, "OTEL_TRACES_SAMPLER_ARG");
  const ratio = ratioText === undefined ? 1 : Number(ratioText);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    issues.push(`OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1, got "${ratioText}"`);

  const count = (key: string): number | undefined => {
    const v = value(env, key);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) {
      issues.push(`${key}: expected a non-negative integer, got "${v}"`);
      return undefined;
    }
    return Number(v);
  };
  const batch = {
    scheduledDelayMillis: count("OTEL_BSP_SCHEDULE_DELAY"),
    maxQueueSize: count("OTEL_BSP_MAX_QUEUE_SIZE"),
    maxExportBatchSize: count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
    exportTimeoutMillis: count("OTEL_BSP_EXPORT_TIMEOUT"),
  };
  const parentText = value(env, "SBW_TRACE_PARENT_FROM_MESSAGE");
  if (parentText !== undefined && parentText !== "true" && parentText !== "false")
    issues.push(`SBW_TRACE_PARENT_FROM_MESSAGE: expected true or false, got "${parentText}"`);
  const settlementText = value(env, "SBW_TRACE_SETTLEMENT") ?? "event";
  if (settlementText !== "event" && settlementText !== "span")
    issues.push(`SBW_TRACE_SETTLEMENT: expected event or span, got "${settlementText}"`);

  const contextText = value(env, "SBW_TRACE_CONTEXT") ?? "async-local-storage";
  if (contextText !== "promise" && contextText !== "async-local-storage")
    issues.push(`SBW_TRACE_CONTEXT: expected async-local-storage or promise, got "${contextText}"`);

  if (issues.length > 0) throw new TelemetryConfigError(issues);
  return {
    exporter: disabled || url === undefined ? undefined : { url, protocol, headers },
    serviceName: value(env, "OTEL_SERVICE_NAME") ?? "sbworker",
    sampler: { name: samplerName ?? "parentbased_always_on", ratio },
    batch: Object.fromEntries(Object.entries(batch).filter(([, v]) => v !== undefined)),
    parentFromMessage: parentText === "true",
    settlement: settlementText === "span" ? "span" : "event",
    dup: dupRequested(env),
    context: contextText === "promise" ? "promise" : "async-local-storage",
  };
}

/** The sampler the settings name. */
export async function createSampler(settings: TelemetrySettings["sampler"]): Promise<Sampler> {
  const sdk = await import("@opentelemetry/sdk-trace-base");
  const ratio = new sdk.TraceIdRatioBasedSampler(settings.ratio);
  switch (settings.name) {
    case "always_on":
      return new sdk.AlwaysOnSampler();
    case "always_off":
      return new sdk.AlwaysOffSampler();
    case "traceidratio":
      return ratio;
    case "parentbased_always_on":
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case "parentbased_always_off":
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new sdk.ParentBasedSampler({ root: ratio });
  }
}

async function createExporter(exporter: NonNullable<TelemetrySettings["exporter"]>): Promise<SpanExporter> {
  const config = { url: exporter.url, headers: exporter.headers, timeoutMillis: TELEMETRY_FLUSH_MS };
  if (exporter.protocol === "http/json") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    return new OTLPTraceExporter(config);
  }
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
  return new OTLPTraceExporter(config);
}

export interface Telemetry extends AsyncDisposable {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  readonly settings: TelemetrySettings;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Flushes (bounded by {@link TELEMETRY_FLUSH_MS}) and unregisters the globals; idempotent. */
  shutdown(): Promise<void>;
}

export interface StartTelemetryOptions {
  /** Extra span processors (tests: an in-memory exporter); they enable tracing without an endpoint. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /**
   * Overrides the sampler the environment names. In link mode (the default) it is asked before
   * the process span's link is added, so it sees no links (./tracing.ts).
   */
  readonly sampler?: Sampler;
  /**
   * Overrides the context manager `SBW_TRACE_CONTEXT` names (tests). With a manager that does
   * not follow `await`, a handler loses its span after its first one.
   */
  readonly contextManager?: ContextManager;
  readonly flushTimeoutMs?: number;
}

const off = (settings: TelemetrySettings): Telemetry => {
  const noop = (): Promise<void> => Promise.resolve();
  return { enabled: false, settings, flush: noop, shutdown: noop, [Symbol.asyncDispose]: noop };
};

/** Starts tracing for this process (or returns a no-op handle when it is off). */
export async function startTelemetry(env: Env, options: StartTelemetryOptions = {}): Promise<Telemetry> {
  const settings = telemetrySettings(env);
  const extra = options.spanProcessors ?? [];
  if (!settings.exporter && extra.length === 0) return off(settings);

  const [
    { NodeSDK },
    { BatchSpanProcessor },
    { W3CTraceContextPropagator, W3CBaggagePropagator, CompositePropagator },
    api,
  ] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/core"),
    import("@opentelemetry/api"),
  ]);
  const processors: SpanProcessor[] = [...extra];
  let batch: SpanProcessor | undefined;
  if (settings.exporter) {
    batch = new BatchSpanProcessor(await createExporter(settings.exporter), settings.batch);
    processors.push(batch);
  }
  // Undefined: the SDK's own AsyncLocalStorage manager.
  const contextManager =
    options.contextManager ??
    (settings.context === "promise"
      ? new (await import("./promiseContext.js")).PromiseContextManager()
      : undefined);
  const sdk = new NodeSDK({
    ...(contextManager ? { contextManager } : {}),
    serviceName: settings.serviceName,
    sampler: options.sampler ?? (await createSampler(settings.sampler)),
    spanProcessors: processors,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  });
  sdk.start();

  const flushTimeoutMs = options.flushTimeoutMs ?? TELEMETRY_FLUSH_MS;
  const bounded = async (work: Promise<unknown>, what: string): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} took longer than ${flushTimeoutMs} ms`)),
        flushTimeoutMs,
      );
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await bounded(sdk.shutdown(), "telemetry shutdown");
      } finally {
        // Unregister, so a later start in the same process (tests) can register again.
        api.trace.disable();
        api.context.disable();
        api.propagation.disable();
      }
    })());
  return {
    enabled: true,
    settings,
    flush: () => bounded(Promise.all(processors.map((p) => p.forceFlush())), "telemetry flush"),
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
