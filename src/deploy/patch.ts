/**
 * JSON Patch (RFC 6902) between two rendered objects: the overlays are the difference between an
 * environment's manifests and the base, computed rather than written, so they cannot drift.
 * `applyPatch` is the inverse, used to check every overlay round-trips.
 */

export type PatchOperation =
  | { readonly op: "add" | "replace"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string };

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values (`undefined` members count as absent). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isPlain(a) && isPlain(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => jsonEqual(a[k], b[k]));
  }
  return a === b;
}

/** A JSON Pointer segment: `~` and `/` escaped (annotation keys contain `/`). */
export function pointerSegment(key: string | number): string {
  return String(key).replaceAll("~", "~0").replaceAll("/", "~1");
}

function unescapeSegment(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** The operations that turn `from` into `to`: field by field, arrays by index when lengths match. */
export function diff(from: unknown, to: unknown, path = ""): PatchOperation[] {
  if (jsonEqual(from, to)) return [];
  if (isPlain(from) && isPlain(to)) {
    const ops: PatchOperation[] = [];
    for (const key of Object.keys(from)) {
      if (from[key] !== undefined && to[key] === undefined)
        ops.push({ op: "remove", path: `${path}/${pointerSegment(key)}` });
    }
    for (const [key, value] of Object.entries(to)) {
      if (value === undefined) continue;
      const child = `${path}/${pointerSegment(key)}`;
      ops.push(
        ...(from[key] === undefined
          ? [{ op: "add" as const, path: child, value }]
          : diff(from[key], value, child)),
      );
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    return to.flatMap((item, i) => diff(from[i], item, `${path}/${i}`));
  }
  if (path === "") throw new TypeError("cannot patch a whole document");
  return [{ op: "replace", path, value: to }];
}

/** Applies `ops` to a deep copy of `target`. Throws on a path that does not exist. */
export function applyPatch<T>(target: T, ops: readonly PatchOperation[]): T {
  const root = structuredClone(target) as unknown;
  for (const op of ops) {
    const segments = op.path.split("/").slice(1).map(unescapeSegment);
    const last = segments.pop();
    if (last === undefined) throw new TypeError(`bad patch path "${op.path}"`);
    let node: unknown = root;
    for (const segment of segments) {
      node = Array.isArray(node) ? node[Number(segment)] : isPlain(node) ? node[segment] : undefined;
      if (node === undefined) throw new TypeError(`patch path "${op.path}" does not exist`);
    }
    if (Array.isArray(node)) {
      const index = Number(last);
      if (op.op === "remove") node.splice(index, 1);
      else if (op.op === "add") node.splice(index, 0, structuredClone(op.value));
      else node[index] = structuredClone(op.value);
    } else if (isPlain(node)) {
      if (op.op === "remove") delete node[last];
      else node[last] = structuredClone(op.value);
    } else {
      throw new TypeError(`patch path "${op.path}" does not exist`);
    }
  }
  return root as T;
}
