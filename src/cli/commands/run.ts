/** `sbworker run`: the worker against the configured Service Bus (what the container runs). */
import { parseArgs } from "node:util";
import { createReferenceHandlers } from "../../handlers/index.js";
import type { WorkerConfig } from "../../worker/config.js";
import { CONFIG_KEYS, loadConfig } from "../../worker/config.js";
import { isConfigError } from "../../worker/errors.js";
import { createLogger } from "../../worker/logger.js";
import { startWorker } from "../../worker/worker.js";
import type { CliCommand, CliIo } from "../command.js";
import { UsageError } from "../command.js";

const HELP = `usage: sbworker run

Consumes the subscriptions selected by SBW_SUBSCRIPTIONS (default: every subscription with
handlers) from SERVICEBUS_CONNECTION_STRING, or SERVICEBUS_NAMESPACE with an Azure credential.
Drains on SIGTERM/SIGINT and exits 0; a second signal exits at once.

environment: ${CONFIG_KEYS.join(", ")}
`;

/** Loads the configuration; invalid settings become a usage error listing every problem. */
export function configFrom(io: CliIo): WorkerConfig {
  try {
    return loadConfig(io.env);
  } catch (error) {
    if (isConfigError(error)) {
      for (const issue of error.issues.slice(1)) io.stderr.write(`sbworker: ${issue}\n`);
      throw new UsageError(error.issues[0] ?? error.message);
    }
    throw error;
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Runs the reference domain's worker until `io.signal` aborts, then drains. Resolves to 0. */
export async function runWorker(config: WorkerConfig, io: CliIo): Promise<number> {
  const logger = createLogger(config.logLevel, io.stdout);
  const registry = createReferenceHandlers({
    cwd: io.cwd,
    ...(config.reference.outboxDir ? { outboxDir: config.reference.outboxDir } : {}),
    ...(config.reference.reportsDir ? { reportsDir: config.reference.reportsDir } : {}),
    ...(config.reference.reportChunkDelayMs !== undefined
      ? { reportChunkDelayMs: config.reference.reportChunkDelayMs }
      : {}),
  });
  let worker;
  try {
    worker = await startWorker({ config, registry, logger });
  } catch (error) {
    if (isConfigError(error)) {
      for (const issue of error.issues.slice(1)) io.stderr.write(`sbworker: ${issue}\n`);
      throw new UsageError(error.issues[0] ?? error.message);
    }
    throw error;
  }
  await aborted(io.signal);
  logger.info({ reason: String(io.signal.reason) }, "shutdown requested");
  await worker.close();
  return 0;
}

export const runCommand: CliCommand = {
  name: "run",
  summary: "run the worker against the configured Service Bus (the container's entry)",
  async run(argv, io) {
    const { values } = parseArgs({ args: [...argv], options: { help: { type: "boolean", short: "h" } } });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const config = configFrom(io);
    if (!config.connection) {
      throw new UsageError(
        "set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE (or use npm start for the emulator)",
      );
    }
    return runWorker(config, io);
  },
};
