/**
 * `sbworker emulator token --role Listen [--role Send] [--ttl 1h] [--audience <aud>] [--tls-dir <dir>]`:
 * prints a JWT signed by the emulator's local issuer key, for `--auth=entra`.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { mintEmulatorToken, parseTtl } from "../../emulator/index.js";
import type { EmulatorRight } from "../../emulator/index.js";
import type { CliIo } from "../command.js";
import { UsageError } from "../command.js";

const HELP = `usage: sbworker emulator token --role <Send|Listen|Manage>... [--ttl 1h] [--audience <aud>]
                               [--tls-dir <dir>] [--json]

Mints a JWT for an emulator started with --auth=entra, signed by the issuer key in --tls-dir
(default ~/.sbworker/emulator-tls, created on first use). Prints the token (or JSON with expiry).
  --role      Send, Listen or Manage (repeatable; Manage implies Send and Listen)
  --ttl       lifetime: 1h (default), 30m, 90s, 2d or an ISO-8601 duration
  --audience  default https://servicebus.azure.net (what Entra ID issues for Service Bus)
`;

const ROLES: Readonly<Record<string, EmulatorRight>> = { send: "Send", listen: "Listen", manage: "Manage" };

export function runEmulatorToken(argv: readonly string[], io: CliIo): number {
  // An unknown option is a usage error (exit 2) in runCli, as for every command.
  const parsed = parseArgs({
    args: [...argv],
    options: {
      role: { type: "string", multiple: true },
      ttl: { type: "string" },
      audience: { type: "string" },
      "tls-dir": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const roles = (v.role ?? [])
    .flatMap((r) => r.split(","))
    .map((r) => {
      const role = ROLES[r.trim().toLowerCase()];
      if (role === undefined) throw new UsageError(`--role expects Send, Listen or Manage, got "${r}"`);
      return role;
    });
  if (roles.length === 0)
    throw new UsageError("emulator token needs at least one --role (Send, Listen or Manage)");
  let ttlMs: number | undefined;
  try {
    ttlMs = v.ttl === undefined ? undefined : parseTtl(v.ttl);
  } catch (error) {
    throw new UsageError(`--ttl: ${error instanceof Error ? error.message : String(error)}`);
  }
  const minted = mintEmulatorToken({
    roles,
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(v.audience !== undefined ? { audience: v.audience } : {}),
    ...(v["tls-dir"] !== undefined ? { dir: resolve(io.cwd, v["tls-dir"]) } : {}),
  });
  io.stdout.write(
    v.json
      ? `${JSON.stringify({ token: minted.token, expiresOnTimestamp: minted.expiresOnTimestamp })}\n`
      : `${minted.token}\n`,
  );
  return 0;
}
