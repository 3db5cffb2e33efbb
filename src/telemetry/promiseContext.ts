/**
 * A context manager that follows promises (and so every `await`) with V8's promise hooks instead
 * of AsyncLocalStorage. On Node 20 AsyncLocalStorage rides on async hooks, which give every
 * promise an async id and run Node's hook machinery on each one; that alone cost the worker 5–10
 * % of its throughput (docs/telemetry.md, "Cost"). This keeps one field per promise created
 * inside a context and nothing for the rest.
 *
 * What it follows: a context made active with `with` (or `bind`) stays active through everything
 * the code awaits: `await`, `.then` chains, async iterators, thenables, `Promise.all`. What it does
 * not: callbacks scheduled without a promise (`setTimeout`, `setImmediate`, `process.nextTick`,
 * `queueMicrotask`, raw I/O callbacks) run in the root context unless bound with
 * `context.bind`, which OpenTelemetry's library instrumentations do for theirs.
 * `SBW_TRACE_CONTEXT=async-local-storage` selects OpenTelemetry's manager, which follows those too.
 *
 * Invariant: `before` and `after` run in pairs around each promise reaction (V8 guarantees it,
 * thrown or not), so the active context is back to what it was when a reaction ends, and the
 * root between macrotasks.
 */
import { promiseHooks, type HookCallbacks } from "node:v8";
// Only for `bind` (functions and EventEmitters, with its listener bookkeeping); its own
// AsyncLocalStorage is never run, so it never enables async hooks.
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ROOT_CONTEXT, type Context } from "@opentelemetry/api";

const CONTEXT = Symbol("sbworker.context");

/** A promise created while a context was active carries it here. */
type Carrier = Promise<unknown> & { [CONTEXT]?: Context };

export class PromiseContextManager extends AsyncLocalStorageContextManager {
  /** Undefined is the root: a promise made in the root carries nothing. */
  private current: Context | undefined;
  private readonly saved: (Context | undefined)[] = [];
  private stop: (() => void) | undefined;

  override active(): Context {
    return this.current ?? ROOT_CONTEXT;
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.current;
    this.current = context === ROOT_CONTEXT ? undefined : context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  /** Active until disposed, or until the promise reaction it was called in ends. */
  override attach(context: Context): ReturnType<AsyncLocalStorageContextManager["attach"]> {
    const previous = this.current;
    this.current = context === ROOT_CONTEXT ? undefined : context;
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.current = previous;
      },
    };
  }

  override enable(): this {
    if (this.stop) return this;
    const hooks: HookCallbacks = {
      init: (promise: Carrier) => {
        if (this.current !== undefined) promise[CONTEXT] = this.current;
      },
      before: (promise: Carrier) => {
        this.saved.push(this.current);
        this.current = promise[CONTEXT];
      },
      after: () => {
        this.current = this.saved.pop();
      },
    };
    this.stop = promiseHooks.createHook(hooks) as () => void;
    return this;
  }

  override disable(): this {
    this.stop?.();
    this.stop = undefined;
    this.current = undefined;
    this.saved.length = 0;
    return super.disable();
  }
}
