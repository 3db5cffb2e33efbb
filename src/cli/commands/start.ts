/**
 * `sbworker start` (`npm start`): the worker, and when no Service Bus is configured, first the
 * embedded emulator with the topology from src/topics. This is the only module that imports the
 * emulator (lazily, so `sbworker run` never loads it).
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { topology } from "../../topics/index.js";
import { toEmulatorConfig } from "../../topics/emulatorConfig.js";
import type { CliCommand } from "../command.js";
import { UsageError } from "../command.js";
import { EMULATOR_STATE_FILE } from "./publish.js";
import { configFrom, runWorker } from "./run.js";

const HELP = `usage: sbworker start [--port N]

Runs the worker. With neither SERVICEBUS_CONNECTION_STRING nor SERVICEBUS_NAMESPACE set, first starts
the embedded emulator with the generated topology on port 5672 (or --port; a free port if taken).
`;

const DEFAULT_PORT = 5672;

/** The emulator rewords EADDRINUSE (without keeping `code`), so the message is checked too. */
function isAddressInUse(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === "EADDRINUSE" || (typeof message === "string" && message.includes("already in use"));
}

export const startCommand: CliCommand = {
  name: "start",
  summary: "run the worker; with no Service Bus configured, against the embedded emulator",
  async run(argv, io) {
    const { values } = parseArgs({
      args: [...argv],
      options: { port: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new UsageError("--port: expected 0-65535");
    const config = configFrom(io);
    if (config.connection) return runWorker(config, io);

    const { startEmulator } = await import("../../emulator/index.js");
    const emulatorConfig = toEmulatorConfig(topology);
    let emulator;
    try {
      emulator = await startEmulator({ port, config: emulatorConfig });
    } catch (error) {
      if (!isAddressInUse(error) || port === 0) throw error;
      io.stderr.write(`sbworker: port ${port} is taken; the emulator uses a free port instead\n`);
      emulator = await startEmulator({ port: 0, config: emulatorConfig });
    }
    const stateFile = join(io.cwd, EMULATOR_STATE_FILE);
    try {
      await mkdir(dirname(stateFile), { recursive: true });
      await writeFile(stateFile, `${JSON.stringify({ connectionString: emulator.connectionString })}\n`);
      io.stdout.write(
        `${JSON.stringify({
          level: "info",
          msg: "emulator started",
          port: emulator.port,
          connectionString: emulator.connectionString,
          hint: `npx sbworker publish orders '{"orderId":"o-1",...}' --subject OrderPlaced`,
        })}\n`,
      );
      return await runWorker(
        { ...config, connection: { kind: "connectionString", connectionString: emulator.connectionString } },
        io,
      );
    } finally {
      await rm(stateFile, { force: true });
      await emulator.close();
    }
  },
};
