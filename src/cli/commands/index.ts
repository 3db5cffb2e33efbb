/** The command table. Each command lives in its own module. */
import type { CliCommand } from "../command.js";
import { emulatorCommand } from "./emulator.js";

export const commands: readonly CliCommand[] = [emulatorCommand];
