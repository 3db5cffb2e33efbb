/** What the emulator suite's parts share (../emulator.ts): sizes and constants. */
import { fileURLToPath } from "node:url";

import { PAYLOAD } from "./servers.js";

export const CHILD_SCRIPT = fileURLToPath(new URL("./server.child.ts", import.meta.url));
export const BATCH = 100;
export const MESSAGE = { body: PAYLOAD };
export const CLIENT_OPTIONS = { retryOptions: { maxRetries: 0, timeoutInMs: 30_000 } };
export const STALL_MS = 15_000;

export type Mode = "inproc" | "child";
export type Log = (line: string) => void;

export interface Sizes {
  readonly reps: number;
  readonly sendMessages: number;
  readonly sendWarmup: number;
  /** maxConcurrentCalls -> messages timed (after `receiveSkip` untimed ones). */
  readonly receiveMessages: Readonly<Record<number, number>>;
  readonly receiveSkip: number;
  readonly startProcesses: number;
  readonly memoryMessages: number;
}

export const FULL: Sizes = {
  // Five: on a shared 2-CPU VM single runs of the *baseline* swing by a third; the median holds.
  reps: 5,
  sendMessages: 20_000,
  sendWarmup: 2_000,
  receiveMessages: { 1: 5_000, 100: 20_000 },
  receiveSkip: 500,
  startProcesses: 3,
  memoryMessages: 200_000,
};

export const QUICK: Sizes = {
  reps: 3,
  sendMessages: 3_000,
  sendWarmup: 500,
  receiveMessages: { 1: 1_000, 100: 3_000 },
  receiveSkip: 200,
  startProcesses: 2,
  memoryMessages: 20_000,
};

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
