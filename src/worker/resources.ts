/**
 * Every acquisition registers its release; `close()` runs the releases in reverse order, once,
 * and keeps going when one fails (each failure is reported, the first is rethrown at the end).
 * If start-up fails halfway, closing releases exactly what was acquired.
 */
export type Release = () => Promise<void> | void;

export class Resources implements AsyncDisposable {
  private readonly stack: { readonly name: string; readonly release: Release }[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly onError: (name: string, error: unknown) => void = () => {}) {}

  /** Registers `resource` with its release and returns it. */
  add<T>(name: string, resource: T, release: (resource: T) => Promise<void> | void): T {
    this.defer(name, () => release(resource));
    return resource;
  }

  defer(name: string, release: Release): void {
    if (this.closing) throw new Error(`cannot acquire "${name}": resources are closing`);
    this.stack.push({ name, release });
  }

  get size(): number {
    return this.stack.length;
  }

  close(): Promise<void> {
    this.closing ??= this.releaseAll();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async releaseAll(): Promise<void> {
    let first: { error: unknown } | undefined;
    for (let entry = this.stack.pop(); entry; entry = this.stack.pop()) {
      try {
        await entry.release();
      } catch (error) {
        this.onError(entry.name, error);
        first ??= { error };
      }
    }
    if (first) throw first.error;
  }
}
