/**
 * "Wait until nothing is in flight, for at most this long": what a consumer's drain needs. The
 * consumer calls `wake()` whenever its last in-flight message is done.
 */
export class IdleGate {
  private waiters: (() => void)[] = [];

  wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** True once woken, false when `timeoutMs` passed first. Call only while something is in flight. */
  async wait(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<true>((resolve) => this.waiters.push(() => resolve(true))),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
