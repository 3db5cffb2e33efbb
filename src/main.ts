/**
 * Process entry point: the only module that touches process signals and exit codes.
 *
 * The first SIGTERM/SIGINT aborts the command's shutdown signal (graceful drain); a second one
 * exits at once, as Kubernetes and an impatient operator both expect.
 */
import { runCli } from "./cli/index.js";

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

  const code = await runCli(process.argv.slice(2), {
    signal: shutdown.signal,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  });
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  process.exitCode = code;
}

main().catch((error: unknown) => {
  process.stderr.write(`sbworker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
