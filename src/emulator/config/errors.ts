/**
 * The one error type of Config.json loading. Every problem names the JSON path, the offending
 * value and what would have been accepted, on one line, so a user can fix the file without
 * reading our source.
 */

export type EmulatorConfigErrorCode = "InvalidEmulatorConfig";

export interface EmulatorConfigErrorInit {
  /** JSON path such as `UserConfig.Namespaces[0].Queues[1].Properties.LockDuration`. */
  readonly path: string;
  /** The offending value (`undefined` when it is missing). */
  readonly value: unknown;
  /** What is wrong, without the value: "is out of range", "is missing". */
  readonly problem: string;
  /** What would be accepted, in words. */
  readonly allowed: string;
  /** The file the config came from, when loaded from disk. */
  readonly file?: string | undefined;
  readonly cause?: unknown;
}

export class EmulatorConfigError extends Error {
  readonly code = "InvalidEmulatorConfig";
  readonly path: string;
  readonly value: unknown;
  readonly problem: string;
  readonly allowed: string;
  readonly file: string | undefined;

  constructor(init: EmulatorConfigErrorInit) {
    const where = init.file === undefined ? "" : ` in ${init.file}`;
    super(
      `Invalid emulator config${where} at ${init.path}: ${describeValue(init.value)} ${init.problem}; allowed: ${init.allowed}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "EmulatorConfigError";
    this.path = init.path;
    this.value = init.value;
    this.problem = init.problem;
    this.allowed = init.allowed;
    this.file = init.file;
  }

  /** The same error, attributed to a file (the loader adds it once it knows the path). */
  inFile(file: string): EmulatorConfigError {
    const { path, value, problem, allowed, cause } = this;
    return new EmulatorConfigError({ path, value, problem, allowed, file, cause });
  }
}

/** Also matches an error from another copy of this module (duplicated packages), by its code. */
export function isEmulatorConfigError(e: unknown): e is EmulatorConfigError {
  if (e instanceof EmulatorConfigError) return true;
  if (!(e instanceof Error)) return false;
  const fields = e as Error & { code?: unknown; path?: unknown };
  return fields.code === "InvalidEmulatorConfig" && typeof fields.path === "string";
}

const MAX_SHOWN = 120;

/** A short, single-line rendering of a JSON value for messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  let text: string;
  try {
    text = JSON.stringify(value) ?? `(${typeof value})`;
  } catch {
    // Only reachable for non-JSON inputs (cycles, BigInt) handed to parseEmulatorConfig directly.
    text = Object.prototype.toString.call(value);
  }
  if (text.length <= MAX_SHOWN) return text;
  return Array.isArray(value) ? `an array of ${value.length} items` : `${text.slice(0, MAX_SHOWN - 1)}…`;
}
