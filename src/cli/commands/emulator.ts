/**
 * `sbworker emulator`: serves the embedded Service Bus emulator until SIGINT/SIGTERM.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "../../emulator/index.js";
import type { CliCommand } from "../command.js";
import { UsageError } from "../command.js";
import { runEmulatorToken } from "./emulator-token.js";

const HELP = `usage: sbworker emulator [--config Config.json] [--port 5672] [--host 127.0.0.1]
                         [--strict-official] [--sas-key <name>=<key>]...
                         [--http-port 5300] [--tls] [--tls-port 5671] [--cert <pem> --key <pem>]
                         [--ca-out <file>] [--tls-dir <dir>] [--auth any|sas|entra]
       sbworker emulator token --role <Send|Listen|Manage> [--ttl 1h]   (see emulator token --help)

Serves an AMQP 1.0 Service Bus emulator that the official SDK uses unchanged.
  --config           an official-emulator Config.json (default: a small built-in topology)
  --port             AMQP port (default 5672; 0 picks a free port)
  --host             interface to bind (default 127.0.0.1)
  --strict-official  enforce Microsoft's emulator limits instead of real-Azure ranges
  --sas-key          check SAS tokens against this key (repeatable); default: accept any token
  --http-port        administration API over plain HTTP (default 5300, or a free port with
                     --port 0); the AMQP port answers HTTP too
  --tls              also serve AMQPS and HTTPS on --tls-port (default 5671) with a generated
                     certificate; prints the CA file for NODE_EXTRA_CA_CERTS
  --cert, --key      serve this certificate and key instead of a generated one
  --ca-out           copy the CA certificate to this file
  --tls-dir          where generated TLS material and the token issuer key live
                     (default ~/.sbworker/emulator-tls)
  --auth             any (default), sas (default with --sas-key), or entra: JWTs from
                     \`sbworker emulator token\` with Send/Listen/Manage roles
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
    if (argv[0] === "token") return runEmulatorToken(argv.slice(1), io);
    // An unknown option is a usage error (exit 2) in runCli, as for every command.
    const parsed = parseArgs({
      args: [...argv],
      options: {
        config: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "strict-official": { type: "boolean" },
        "sas-key": { type: "string", multiple: true },
        "http-port": { type: "string" },
        tls: { type: "boolean" },
        "tls-port": { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        "ca-out": { type: "string" },
        "tls-dir": { type: "string" },
        auth: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    const v = parsed.values;
    if (v.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const port = parsePort(v.port, 5672);
    const auth = v.auth;
    if (auth !== undefined && auth !== "any" && auth !== "sas" && auth !== "entra") {
      throw new UsageError(`--auth expects any, sas or entra, got "${auth}"`);
    }
    const tls = v.tls === true || v.cert !== undefined || v.key !== undefined;
    // Paths are the command's, relative to its working directory (io.cwd), like every command's.
    const path = (p: string): string => resolve(io.cwd, p);
    let emulator;
    try {
      emulator = await startEmulator({
        ...(v.config !== undefined ? { configPath: path(v.config) } : {}),
        port,
        host: v.host ?? "127.0.0.1",
        strictOfficial: v["strict-official"] ?? false,
        sasKeys: parseSasKeys(v["sas-key"] ?? []),
        // With --port 0 every default port becomes "pick a free one", so parallel runs never clash.
        httpPort: parsePort(v["http-port"], port === 0 ? 0 : 5300, "--http-port"),
        ...(tls
          ? {
              tls: {
                ...(v.cert !== undefined ? { certPath: path(v.cert) } : {}),
                ...(v.key !== undefined ? { keyPath: path(v.key) } : {}),
                ...(v["ca-out"] !== undefined ? { caOut: path(v["ca-out"]) } : {}),
              },
              tlsPort: parsePort(v["tls-port"], port === 0 ? 0 : 5671, "--tls-port"),
            }
          : {}),
        ...(v["tls-dir"] !== undefined ? { tlsDir: path(v["tls-dir"]) } : {}),
        ...(auth !== undefined ? { auth } : {}),
        log: (line) => io.stderr.write(`${line}\n`),
      });
    } catch (error) {
      // A bad config or a busy port is a usage problem: one line, exit 2.
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    io.stdout.write(`${emulator.connectionString}\n`);
    if (emulator.httpPort !== undefined) {
      io.stderr.write(
        `administration API: http://${v.host ?? "127.0.0.1"}:${emulator.httpPort}/ (GET /health)\n`,
      );
    }
    if (emulator.fullyQualifiedNamespace !== undefined) {
      io.stderr.write(`TLS namespace: ${emulator.fullyQualifiedNamespace} (AMQPS + HTTPS)\n`);
      if (emulator.caPath !== undefined) io.stderr.write(`NODE_EXTRA_CA_CERTS=${emulator.caPath}\n`);
    }
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await emulator.close();
    return 0;
  },
};
