/** A worker in a real child process (`node bin/sbworker.js run`, or another command), with its JSON log lines. */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export type LogLine = Record<string, unknown> & { msg?: string };

export class WorkerProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  constructor(env: Record<string, string>, args: readonly string[] = ["run"], cwd = root) {
    this.child = spawn(process.execPath, [join(root, "bin", "sbworker.js"), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SBW_FROM_SOURCE: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = once(this.child, "exit").then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    let buffered = "";
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const text = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
      }
    });
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => this.stderr.push(chunk));
  }

  /** Resolves when `check` (over all lines so far) holds; rejects if the process exits first. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ check, resolve })),
      this.exited.then((exit) => {
        if (check()) return;
        throw new Error(`worker exited (${JSON.stringify(exit)}) first; stderr: ${this.stderr.join("")}`);
      }),
    ]);
  }

  /** Resolves with the first log line (past or future) that matches. */
  async waitFor(match: (line: LogLine) => boolean): Promise<LogLine> {
    await this.until(() => this.lines.some(match));
    return this.lines.find(match)!;
  }

  count(match: (line: LogLine) => boolean): number {
    return this.lines.filter(match).length;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Stops the process if it is still running (test cleanup). */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

/** Matches a log line by its `msg`, and optionally more of its fields. */
export const isMsg =
  (msg: string, extra: (line: LogLine) => boolean = () => true) =>
  (line: LogLine): boolean =>
    line.msg === msg && extra(line);
