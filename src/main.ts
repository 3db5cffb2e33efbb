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
 *
 * Once the command has returned, everything it acquired is released, and the process exits as soon
 * as the event loop is empty, or after {@link EXIT_GRACE_MS} if something outside our hands still
 * holds it: the SDK keeps a timer of up to 60 s for a session settlement it sent into a connection
 * that dropped, past the receiver's close. A pod that logged "worker closed" and then sat there
 * would run into its termination grace period and be killed.
 */
import { oneLine } from "./cli/oneLine.js";
import { isTelemetryConfigError, startTelemetry, type Telemetry } from "./telemetry/setup.js";

/** How long the process may outlive its command (normally it exits at once: the loop is empty). */
const EXIT_GRACE_MS = 1_000;

/**
 * Ends the process with `code` once the loop is empty, or after the grace. Silently: a CLI error
 * is one line on stderr, whatever the SDK left running.
 */
function exitWhenIdle(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}

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
  exitWhenIdle(code);
}

main().catch((error: unknown) => {
  process.stderr.write(`sbworker: ${oneLine(error)}\n`);
  exitWhenIdle(1);
});
