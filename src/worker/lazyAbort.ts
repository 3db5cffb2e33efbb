/**
 * An AbortController whose AbortSignal is created only when someone asks for it. A signal costs
 * an EventTarget per message (a few µs and several allocations), and most deliveries never abort
 * and most handlers never look at `ctx.signal`; the worker itself listens through `onAbort`.
 *
 * It is a drop-in for AbortController where the worker only calls `signal` and `abort(reason)`:
 * `signal` is the same object on every call, and is already aborted (with the same reason) when
 * it is created after `abort`.
 */
export class LazyAbortController {
  private real: AbortController | undefined;
  private abortedWith: { readonly reason: unknown } | undefined;
  private listeners: (() => void)[] | undefined;

  get signal(): AbortSignal {
    if (!this.real) {
      this.real = new AbortController();
      if (this.abortedWith) this.real.abort(this.abortedWith.reason);
    }
    return this.real.signal;
  }

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /** As `signal.reason`: undefined until aborted. */
  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** As AbortController#abort: the first call wins; no reason means a DOMException AbortError. */
  abort(reason?: unknown): void {
    if (this.abortedWith) return;
    if (reason === undefined) {
      // Let the platform make its default reason, so `signal.reason` is exactly what it would be.
      const signal = this.signal;
      this.real!.abort();
      this.abortedWith = { reason: signal.reason };
    } else {
      this.abortedWith = { reason };
      this.real?.abort(reason);
    }
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }

  /** Calls `listener` once on abort (not when already aborted: check `aborted` first). */
  onAbort(listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }

  offAbort(listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }
}

/** What the worker needs of an AbortController: a real one (tests) or a LazyAbortController. */
export interface Abortable {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}

/** `signal.aborted`, without creating a lazy controller's signal. */
export function isAborted(controller: Abortable): boolean {
  return controller instanceof LazyAbortController ? controller.aborted : controller.signal.aborted;
}
