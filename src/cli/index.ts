/** The `sbworker` command dispatcher: one module per command under `./commands`. */
import type { CliCommand, CliIo } from "./command.js";
import { isParseArgsError, isUsageError } from "./command.js";
import { commands } from "./commands/index.js";
import { oneLine } from "./oneLine.js";

function usage(list: readonly CliCommand[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    "usage: sbworker <command> [options]",
    "",
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
  ].join("\n");
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(usage(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`sbworker: unknown command "${name}"; run "sbworker help" for the list\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // Every failure is one line on stderr; usage and connection problems exit 2.
    io.stderr.write(`sbworker ${name}: ${oneLine(error)}\n`);
    return isUsageError(error) || isParseArgsError(error) ? 2 : 1;
  }
}
