/**
 * `sbworker emulator`: serves the embedded Service Bus emulator until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startEmulator } from "../../emulator/index.js";
import type { CliCommand } from "../command.js";
import { UsageError } from "../command.js";

const HELP = `usage: sbworker emulator [--config Config.json] [--port 5672] [--host 127.0.0.1]
                         [--strict-official] [--sas-key <name>=<key>]...

Serves an AMQP 1.0 Service Bus emulator that the official SDK uses unchanged.
  --config           an official-emulator Config.json (default: a small built-in topology)
  --port             AMQP port (default 5672; 0 picks a free port)
  --host             interface to bind (default 127.0.0.1)
  --strict-official  enforce Microsoft's emulator limits instead of real-Azure ranges
  --sas-key          check SAS tokens against this key (repeatable); default: accept any token
`;

export function parseSasKeys(values: readonly string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const keys: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0 || i === v.length - 1) throw new UsageError(`--sas-key expects <name>=<key>, got "${v}"`);
    keys[v.slice(0, i)] = v.slice(i + 1);
  }
  return keys;
}

export function parsePort(value: string | undefined, fallback: number, flag = "--port"): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${flag} expects a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

export const emulatorCommand: CliCommand = {
  name: "emulator",
  summary: "serve the embedded Service Bus emulator (AMQP) until SIGINT/SIGTERM",
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        options: {
          config: { type: "string" },
          port: { type: "string" },
          host: { type: "string" },
          "strict-official": { type: "boolean" },
          "sas-key": { type: "string", multiple: true },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const v = parsed.values;
    if (v.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const port = parsePort(v.port, 5672);
    let emulator;
    try {
      emulator = await startEmulator({
        ...(v.config !== undefined ? { configPath: v.config } : {}),
        port,
        host: v.host ?? "127.0.0.1",
        strictOfficial: v["strict-official"] ?? false,
        sasKeys: parseSasKeys(v["sas-key"] ?? []),
        log: (line) => io.stderr.write(`${line}\n`),
      });
    } catch (error) {
      // A bad config or a busy port is a usage problem: one line, exit 2.
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    io.stdout.write(`${emulator.connectionString}\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await emulator.close();
    return 0;
  },
};
