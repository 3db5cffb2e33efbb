/**
 * Every acquisition registers its release; `close()` runs the releases in reverse order, once,
 * and keeps going when one fails (each failure is reported, the first is rethrown at the end).
 * If start-up fails halfway, closing releases exactly what was acquired.
 *
 * A release may be given a time limit, and `close()` a budget for all of them: a release that runs
 * over either (a Service Bus close that a network partition holds) is reported as a
 * CloseTimeoutError and left behind, and the next release runs. Once the budget is spent, each
 * release still gets a floor ({@link RELEASE_FLOOR_MS} by default): a partition that held one close holds the next ones
 * on the same connection too, while a healthy release (a local server, a file) needs little.
 * Running over does not fail `close()`: the release was attempted, and what it held is freed by
 * the other side in time (the broker drops a dead connection's links; locks expire).
 */
import type { Logger } from "pino";
import { withDeadline } from "./deadline.js";
import { CloseTimeoutError, isCloseTimeoutError } from "./errors.js";

export type Release = () => Promise<void> | void;

/** What each release may still take once the close budget is spent. */
export const RELEASE_FLOOR_MS = 1_000;

/** The usual error hook: a release that ran over is a warning (a partition does that), the rest errors. */
export function releaseReporter(log: Pick<Logger, "warn" | "error">): (name: string, error: unknown) => void {
  return (name, error) => {
    if (isCloseTimeoutError(error))
      log.warn({ resource: name, timeoutMs: error.timeoutMs }, "release timed out; left behind");
    else log.error({ err: error, resource: name }, "release failed");
  };
}

interface Entry {
  readonly name: string;
  readonly release: Release;
  readonly timeoutMs: number | undefined;
}

export class Resources implements AsyncDisposable {
  private readonly stack: Entry[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly onError: (name: string, error: unknown) => void = () => {},
    /** What each release may still take once the budget is spent. */
    private readonly floorMs = RELEASE_FLOOR_MS,
  ) {}

  /** Registers `resource` with its release (bounded by `timeoutMs`, if given) and returns it. */
  add<T>(name: string, resource: T, release: (resource: T) => Promise<void> | void, timeoutMs?: number): T {
    this.defer(name, () => release(resource), timeoutMs);
    return resource;
  }

  defer(name: string, release: Release, timeoutMs?: number): void {
    if (this.closing) throw new Error(`cannot acquire "${name}": resources are closing`);
    this.stack.push({ name, release, timeoutMs });
  }

  get size(): number {
    return this.stack.length;
  }

  /** Releases everything in reverse order, once; `budgetMs` bounds the whole (see above). */
  close(budgetMs?: number): Promise<void> {
    this.closing ??= this.releaseAll(budgetMs === undefined ? undefined : Date.now() + budgetMs);
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async releaseAll(deadline: number | undefined): Promise<void> {
    let first: { error: unknown } | undefined;
    for (let entry = this.stack.pop(); entry; entry = this.stack.pop()) {
      const { name, release } = entry;
      const left = deadline === undefined ? undefined : Math.max(this.floorMs, deadline - Date.now());
      const timeoutMs = left === undefined ? entry.timeoutMs : Math.min(left, entry.timeoutMs ?? left);
      try {
        // Through a promise, so a release that throws synchronously is caught the same way.
        const released = Promise.resolve().then(release);
        await withDeadline(released, timeoutMs, () => new CloseTimeoutError(`closing ${name}`, timeoutMs!));
      } catch (error) {
        this.onError(name, error);
        if (!isCloseTimeoutError(error)) first ??= { error };
      }
    }
    if (first) throw first.error;
  }
}
