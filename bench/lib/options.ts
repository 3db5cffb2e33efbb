/**
 * The suites' `--key=value` options: one parser for integers and one for choices, and one error
 * class, so a bad option stops `bench/run.ts` with one line and exit code 2 whatever suite reads it.
 */

/** A `--key=value` the suite cannot use. */
export class BenchOptionError extends Error {
  readonly code = "BenchOption" as const;
  constructor(message: string) {
    super(message);
    this.name = "BenchOptionError";
  }
}

export function isBenchOptionError(error: unknown): error is BenchOptionError {
  return error instanceof BenchOptionError;
}

/** `--key=N`, an integer of at least `min`; `fallback` when absent. */
export function integerOption(
  options: ReadonlyMap<string, string>,
  key: string,
  fallback: number,
  min = 1,
): number {
  const text = options.get(key);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < min)
    throw new BenchOptionError(`--${key}: expected an integer of at least ${min}, got "${text}"`);
  return n;
}

/** `--key=one of choices`; `fallback` when absent. */
export function choiceOption<T extends string>(
  options: ReadonlyMap<string, string>,
  key: string,
  choices: readonly T[],
  fallback: T,
): T {
  const text = options.get(key) ?? fallback;
  if (!(choices as readonly string[]).includes(text))
    throw new BenchOptionError(`--${key}: expected ${choices.join(", ")}, got "${text}"`);
  return text as T;
}
