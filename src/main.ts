/**
 * Process entry point: the only module that touches process signals and exit codes.
 *
 * The first SIGTERM/SIGINT aborts the command's shutdown signal (graceful drain); a second one
 * exits at once, as Kubernetes and an impatient operator both expect.
 *
 * Telemetry starts first (src/telemetry/setup.ts; off when no OTLP endpoint is set) and the CLI,
 * with `@azure/service-bus` behind it, is imported only afterwards: ESM evaluates static imports
 * before any code runs, so a tracer provider registered after them would miss module-load-time
 * hooks. Spans are flushed after the command returns, before the process exits.
 */
import { oneLine } from "./cli/oneLine.js";
import { isTelemetryConfigError, startTelemetry, type Telemetry } from "./telemetry/setup.js";

async function main(): Promise<void> {
  const shutdown = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`received ${name} again, exiting now\n`);
      process.exit(130);
    }
    shutdown.abort(new Error(`received ${name}`));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  let telemetry: Telemetry;
  try {
    telemetry = await startTelemetry(process.env);
  } catch (error) {
    if (!isTelemetryConfigError(error)) throw error;
    for (const issue of error.issues) process.stderr.write(`sbworker: ${issue}\n`);
    process.exitCode = 2;
    return;
  }
  const { runCli } = await import("./cli/index.js");
  let code: number;
  try {
    code = await runCli(process.argv.slice(2), {
      signal: shutdown.signal,
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
      cwd: process.cwd(),
    });
  } finally {
    await telemetry.shutdown().catch((error: unknown) => {
      process.stderr.write(`sbworker: flushing telemetry failed: ${oneLine(error)}\n`);
    });
  }
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  process.exitCode = code;
}

main().catch((error: unknown) => {
  process.stderr.write(`sbworker: ${oneLine(error)}\n`);
  process.exitCode = 1;
});
