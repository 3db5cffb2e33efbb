/** `sbworker topology emulator-config`: the emulator Config.json generated from src/topics. */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { topology } from "../../topics/index.js";
import { toEmulatorConfig } from "../../topics/emulatorConfig.js";
import type { CliCommand } from "../command.js";
import { UsageError } from "../command.js";

const HELP = `usage: sbworker topology emulator-config [--out FILE]

Prints (or writes) the official emulator's Config.json built from the topology in src/topics.
`;

export const topologyCommand: CliCommand = {
  name: "topology",
  summary: "print the emulator Config.json generated from src/topics",
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals[0] !== "emulator-config" || positionals.length !== 1) {
      throw new UsageError('expected "topology emulator-config"');
    }
    const text = `${JSON.stringify(toEmulatorConfig(topology), null, 2)}\n`;
    if (values.out) await writeFile(resolve(io.cwd, values.out), text);
    else io.stdout.write(text);
    return 0;
  },
};
