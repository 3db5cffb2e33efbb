/**
 * Child processes for measurements that need a clean process (cold start, `--expose-gc`
 * memory) or a core of their own. Children are TypeScript files run through tsx, talking to the
 * parent over the IPC channel.
 */
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface ChildOptions {
  /** Extra node flags, e.g. `--expose-gc`. */
  readonly nodeFlags?: readonly string[];
  readonly args?: readonly string[];
}

/** A forked tsx child with a typed request/response channel. */
export class Child<Out> {
  private readonly waiting: ((m: Out) => void)[] = [];
  private readonly inbox: Out[] = [];
  private exited: Error | undefined;
  private readonly exitWaiters: ((e: Error) => void)[] = [];

  private constructor(readonly proc: ChildProcess) {
    proc.on("message", (m) => {
      const next = this.waiting.shift();
      if (next) next(m as Out);
      else this.inbox.push(m as Out);
    });
    proc.on("exit", (code, signal) => {
      this.exited = new Error(`child exited (code ${String(code)}, signal ${String(signal)})`);
      for (const w of this.exitWaiters.splice(0)) w(this.exited);
    });
  }

  static start<Out>(script: string, options: ChildOptions = {}): Child<Out> {
    const proc = fork(script, [...(options.args ?? [])], {
      cwd: repoRoot,
      execArgv: [...(options.nodeFlags ?? []), "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    return new Child<Out>(proc);
  }

  /** The next message from the child (fails if the child exits first). */
  next(timeoutMs = 120_000): Promise<Out> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<Out>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from child in ${timeoutMs} ms`)), timeoutMs);
      const done = (m: Out): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiting.push(done);
      this.exitWaiters.push((e) => {
        clearTimeout(timer);
        const i = this.waiting.indexOf(done);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(e);
      });
    });
  }

  send(message: unknown): void {
    this.proc.send(message as object);
  }

  async request(message: unknown, timeoutMs?: number): Promise<Out> {
    this.send(message);
    return this.next(timeoutMs);
  }

  /** Waits for the child to exit; kills it (by its pid) if it does not within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(() => resolve()));
    if (this.proc.connected) this.proc.disconnect();
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
