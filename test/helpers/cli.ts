/** The CLI in-process with captured output: `captureIo` for a command's own entry, `cli` for `sbworker <args>`. */
import { PassThrough } from "node:stream";
import type { CliIo } from "../../src/cli/command.js";
import { runCli } from "../../src/cli/index.js";

export interface CapturedIo {
  readonly io: CliIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

export function captureIo(
  options: { cwd?: string; env?: Readonly<Record<string, string>>; signal?: AbortSignal } = {},
): CapturedIo {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c: Buffer) => (stdout += c.toString()));
  err.on("data", (c: Buffer) => (stderr += c.toString()));
  const io: CliIo = {
    signal: options.signal ?? new AbortController().signal,
    stdout: out,
    stderr: err,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `sbworker <args>` to its end. */
export async function cli(
  args: readonly string[],
  options: { cwd: string; env?: Readonly<Record<string, string>> },
): Promise<CliRun> {
  const { io, stdout, stderr } = captureIo(options);
  const code = await runCli(args, io);
  return { code, out: stdout(), err: stderr() };
}
