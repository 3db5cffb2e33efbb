/** Entity, subscription and rule names, as Service Bus and Config-schema.json allow them. */
import { fail, readString } from "./json.js";

/** Queues and topics. */
export const ENTITY_NAME_MAX = 260;
/** Subscriptions, rules and (here) the namespace. */
export const CHILD_NAME_MAX = 50;
const NAME_CHARS = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?$/;

export function readName(value: unknown, path: string, max: number): string {
  const allowed = `a name of 1 to ${max} letters, digits, "-", "_", "." or "/", starting and ending with a letter or digit`;
  const name = readString(value, path, allowed);
  if (!NAME_CHARS.test(name)) fail(path, name, "is not a valid name", allowed);
  if (name.length > max) fail(path, name, `is longer than ${max} characters`, allowed);
  return name;
}

/** Names in one scope; Service Bus names are case-insensitive, so `Orders` clashes with `orders`. */
export class NameScope {
  private readonly seen = new Map<string, string>();
  private readonly allowed: string;

  constructor(allowed: string) {
    this.allowed = `${allowed} (names are case-insensitive)`;
  }

  add(name: string, path: string): void {
    const key = name.toLowerCase();
    const previous = this.seen.get(key);
    if (previous !== undefined) fail(path, name, `is already used at ${previous}`, this.allowed);
    this.seen.set(key, path);
  }
}
