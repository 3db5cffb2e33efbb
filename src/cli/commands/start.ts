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
import type { ServiceBusConnection } from "../../worker/config.js";
import type { CliCommand, CliIo } from "../command.js";
import { UsageError } from "../command.js";
import { EMULATOR_STATE_FILE } from "./publish.js";
import { configFrom, runWorker, type Sidecar } from "./run.js";

const HELP = `usage: sbworker start [--port N]

Runs the worker. With neither SERVICEBUS_CONNECTION_STRING nor SERVICEBUS_NAMESPACE set, first starts
the embedded emulator with the generated topology on port 5672 (or --port; a free port if taken),
and the example HTTP API (POST /orders, POST /reports) on SBW_API_PORT (default 3000; off to skip).
With a Service Bus configured, the API runs only when SBW_API_PORT is set.
`;

const DEFAULT_API_PORT = 3000;

/** The example API as a sidecar of the worker, publishing to `connectionString`. */
function exampleApi(connection: ServiceBusConnection, io: CliIo, port: number): Sidecar {
  return async (logger) => {
    const [{ createPublisher }, { startExampleApi, tryIt }, { createServiceBusClient, clientOptions }] =
      await Promise.all([
        import("../../publisher/index.js"),
        import("../../examples/api/server.js"),
        import("../../worker/client.js"),
      ]);
    const config = configFrom(io);
    const client = await createServiceBusClient(connection, clientOptions(config));
    const publisher = createPublisher({ client });
    const log = logger.child({ component: "example-api" });
    let api;
    try {
      const host = io.env.SBW_API_HOST ?? "127.0.0.1";
      try {
        api = await startExampleApi({ publisher, log, port, host });
      } catch (error) {
        if (!isAddressInUse(error) || port === 0) throw error;
        io.stderr.write(`sbworker: port ${port} is taken; the example API uses a free port instead\n`);
        api = await startExampleApi({ publisher, log, port: 0, host });
      }
    } catch (error) {
      await publisher.close();
      await client.close();
      throw error;
    }
    log.info({ url: api.url, try: tryIt(api.url) }, "example API listening");
    io.stderr.write(`\ntry the example API:\n  ${tryIt(api.url).join("\n  ")}\n\n`);
    return {
      close: async () => {
        await api.close();
        await publisher.close();
        await client.close();
      },
    };
  };
}

function apiPort(io: CliIo, byDefault: boolean): number | undefined {
  const text = io.env.SBW_API_PORT?.trim();
  if (text === undefined || text === "") return byDefault ? DEFAULT_API_PORT : undefined;
  if (text === "off") return undefined;
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65_535)
    throw new UsageError(`SBW_API_PORT: expected a TCP port 0-65535 or off, got "${text}"`);
  return port;
}

const DEFAULT_PORT = 5672;

/** The emulator rewords EADDRINUSE for each of its listeners and keeps the code. */
function isAddressInUse(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "EADDRINUSE";
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
    if (config.connection) {
      const configured = apiPort(io, false);
      return runWorker(
        config,
        io,
        configured === undefined ? [] : [exampleApi(config.connection, io, configured)],
      );
    }
    const api = apiPort(io, true);

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
      const connection: ServiceBusConnection = {
        kind: "connectionString",
        connectionString: emulator.connectionString,
      };
      return await runWorker(
        { ...config, connection },
        io,
        api === undefined ? [] : [exampleApi(connection, io, api)],
      );
    } finally {
      await rm(stateFile, { force: true });
      await emulator.close();
    }
  },
};
