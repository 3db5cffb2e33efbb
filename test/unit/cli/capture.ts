/** Runs `sbworker <args>` in-process with captured output (no connection needed by the callers). */
import { Writable } from "node:stream";
import { runCli } from "../../../src/cli/index.js";

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function cli(
  args: readonly string[],
  options: { cwd: string; env?: Readonly<Record<string, string>> },
): Promise<CliRun> {
  let out = "";
  let err = "";
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await runCli(args, {
    signal: new AbortController().signal,
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    env: options.env ?? {},
    cwd: options.cwd,
  });
  return { code, out, err };
}
