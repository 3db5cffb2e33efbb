/**
 * Small readers for untrusted JSON that fail with an `EmulatorConfigError` naming the path.
 * Every object is checked against its list of known property names, so a typo such as
 * `LockDuraton` is an error instead of a silently applied default.
 */
import { EmulatorConfigError } from "./errors.js";

export type JsonObject = Readonly<Record<string, unknown>>;

export function fail(path: string, value: unknown, problem: string, allowed: string): never {
  throw new EmulatorConfigError({ path, value, problem, allowed });
}

/** Path of the document itself, for errors about the whole value. */
export const ROOT_PATH = "(root)";

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `a.b`, or `a["odd key"]` for keys that are not identifiers (application property names). */
export function child(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path === ROOT_PATH ? "" : path}[${JSON.stringify(key)}]`;
  return path === ROOT_PATH ? key : `${path}.${key}`;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Own properties only: JSON objects inherit `constructor`, `toString`... which are not config. */
export function get(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** An object whose keys are all in `known`; `what` describes it for the error message. */
export function readObject(value: unknown, path: string, what: string, known: readonly string[]): JsonObject {
  if (!isObject(value)) fail(path, value, value === undefined ? "is required" : "is not an object", what);
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = suggest(key, known);
    fail(
      child(path, key),
      key,
      "is not a known property",
      `${listNames(known)}${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
    );
  }
  return value;
}

export function readArray(value: unknown, path: string, what: string): readonly unknown[] {
  if (!Array.isArray(value)) fail(path, value, value === undefined ? "is required" : "is not an array", what);
  return value as readonly unknown[];
}

export function readString(value: unknown, path: string, allowed: string): string {
  if (typeof value !== "string")
    fail(path, value, value === undefined ? "is required" : "is not a string", allowed);
  return value;
}

export function readBoolean(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") fail(path, value, "is not a boolean", "true or false");
  return value;
}

export function readInteger(
  value: unknown,
  path: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const allowed = `an integer from ${min} to ${max}`;
  if (typeof value !== "number" || !Number.isInteger(value)) fail(path, value, "is not an integer", allowed);
  if (value < min || value > max) fail(path, value, "is out of range", allowed);
  return value;
}

export function listNames(names: readonly string[]): string {
  return names.length === 1 ? `"${names[0]}"` : `one of ${names.map((n) => `"${n}"`).join(", ")}`;
}

/** The known name closest to a typo (case-insensitive, at most 2 edits), if any. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
