/** The command table. Each command lives in its own module. */
import type { CliCommand } from "../command.js";
import { dlqCommand } from "./dlq.js";
import { emulatorCommand } from "./emulator.js";
import { k8sCommand } from "./k8s.js";
import { publishCommand } from "./publish.js";
import { runCommand } from "./run.js";
import { schedulesCommand } from "./schedules.js";
import { startCommand } from "./start.js";
import { topologyCommand } from "./topology.js";

export const commands: readonly CliCommand[] = [
  runCommand,
  startCommand,
  publishCommand,
  topologyCommand,
  emulatorCommand,
  k8sCommand,
  dlqCommand,
  schedulesCommand,
];
