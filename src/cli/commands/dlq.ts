/**
 * `sbworker dlq <subcommand>`: inspect, export, replay and purge dead letters (issue 6; runbook in
 * docs/dlq.md). Each subcommand lives in src/cli/dlq/commands. Exit codes: 0 all done, 1 some
 * messages failed (listed), 2 bad usage or connection (one line on stderr).
 */
import { isServiceBusError } from "@azure/service-bus";
import type { CliCommand, CliIo } from "../command.js";
import { bulkCommand } from "../dlq/commands/bulk.js";
import { exportCommand } from "../dlq/commands/export.js";
import { listCommand } from "../dlq/commands/list.js";
import { peekCommand } from "../dlq/commands/peek.js";
import { sendFileCommand } from "../dlq/commands/sendFile.js";
import { statsCommand } from "../dlq/commands/stats.js";
import { isDlqError } from "../dlq/errors.js";
import { oneLine } from "../oneLine.js";

type Subcommand = (argv: readonly string[], io: CliIo) => Promise<number>;

const SUBCOMMANDS: ReadonlyMap<string, { run: Subcommand; summary: string }> = new Map([
  ["list", { run: listCommand, summary: "every queue and subscription with its dead-letter count" }],
  ["stats", { run: statsCommand, summary: "dead letters of an entity by reason, subject and age" }],
  ["peek", { run: peekCommand, summary: "a table of dead letters (nothing is locked or removed)" }],
  ["export", { run: exportCommand, summary: "write dead letters to a JSON-lines file, bytes preserved" }],
  ["send-file", { run: sendFileCommand, summary: "send the messages of an export file" }],
  [
    "replay",
    {
      run: (argv, io) => bulkCommand("replay", argv, io),
      summary: "send dead letters back, then remove them",
    },
  ],
  ["purge", { run: (argv, io) => bulkCommand("purge", argv, io), summary: "remove dead letters" }],
]);

const HELP = `usage: sbworker dlq <subcommand> [options]    (sbworker dlq <subcommand> --help for details)

${[...SUBCOMMANDS].map(([name, s]) => `  ${name.padEnd(10)} ${s.summary}`).join("\n")}

An entity is <queue> or <topic>/<subscription>. Runbook: docs/dlq.md.
Exit codes: 0 all done, 1 some messages failed (listed), 2 bad usage or connection.
`;

export const dlqCommand: CliCommand = {
  name: "dlq",
  summary: "inspect, export, replay and purge dead letters",
  async run(argv, io) {
    const [name, ...rest] = argv;
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      io.stdout.write(HELP);
      return name === undefined ? 2 : 0;
    }
    const sub = SUBCOMMANDS.get(name);
    if (!sub) {
      io.stderr.write(`sbworker dlq: unknown subcommand "${name}"; run "sbworker dlq help"\n`);
      return 2;
    }
    try {
      return await sub.run(rest, io);
    } catch (error) {
      // Usage, file and connection problems are one line and exit 2; anything else is a bug
      // or an I/O failure mid-run, which the CLI reports with exit 1.
      if (isDlqError(error) || isServiceBusError(error)) {
        io.stderr.write(`sbworker dlq ${name}: ${oneLine(error)}\n`);
        return 2;
      }
      throw error;
    }
  },
};
