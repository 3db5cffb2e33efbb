/**
 * A small, deterministic YAML writer for JSON values (block style, keys in insertion order), so the
 * rendered manifests read like hand-written ones and never depend on a YAML library's formatting.
 *
 * Scalars are written plain only when no YAML 1.1 or 1.2 parser can read them as anything but that
 * string; otherwise they are double-quoted with JSON escapes (a subset of YAML's). Multi-line
 * strings without trailing blanks use a literal block (`|-` or `|`).
 */

type Scalar = string | number | boolean | null;

/** A JSON value as TypeScript sees typed manifests: interfaces have no index signature. */
export type Json = unknown;

const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i;
const NUMBER_LIKE = /^[-+]?(?:\d[\d_]*)?(?:\.[\d_]*)?(?:[eE][-+]?\d+)?$|^0[xXoObB]|^\d+(?:[-:]\d)/;

function plainSafe(text: string): boolean {
  return PLAIN.test(text) && !RESERVED.test(text) && !NUMBER_LIKE.test(text);
}

function scalarText(value: Scalar): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} as YAML`);
    return String(value);
  }
  return plainSafe(value) ? value : JSON.stringify(value);
}

function blockString(value: string, indent: string): string | undefined {
  if (!value.includes("\n")) return undefined;
  const body = value.endsWith("\n") ? value.slice(0, -1) : value;
  const lines = body.split("\n");
  // A literal block keeps text verbatim; fall back to quoting for anything it would alter.
  if (lines.some((l) => /[ \t]$/.test(l) || l.includes("\r")) || /^[ \t]/.test(lines[0] ?? ""))
    return undefined;
  if (body.includes("\n\n\n") || body.endsWith("\n")) return undefined;
  const indicator = value.endsWith("\n") ? "|" : "|-";
  return `${indicator}\n${lines.map((l) => (l === "" ? "" : `${indent}${l}`)).join("\n")}`;
}

function isScalar(value: Json): value is Scalar {
  if (value === null) return true;
  if (typeof value === "object") return false;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return true;
  throw new TypeError(`cannot write a ${typeof value} as YAML`);
}

function isEmpty(value: Json): boolean {
  if (value === null || typeof value !== "object") return false;
  return Array.isArray(value) ? value.length === 0 : Object.values(value).every((v) => v === undefined);
}

function emptyText(value: Json): string {
  return Array.isArray(value) ? "[]" : "{}";
}

/** Lines of a non-empty collection at `indent`. */
function collection(value: Json, indent: string): string[] {
  const lines: string[] = [];
  const child = `${indent}  `;
  if (Array.isArray(value)) {
    for (const item of value as readonly Json[]) {
      if (item === undefined) throw new TypeError("cannot write undefined in a YAML sequence");
      if (isScalar(item)) {
        const block = typeof item === "string" ? blockString(item, child) : undefined;
        lines.push(`${indent}- ${block ?? scalarText(item)}`);
      } else if (isEmpty(item)) {
        lines.push(`${indent}- ${emptyText(item)}`);
      } else {
        const inner = collection(item, child);
        lines.push(`${indent}- ${(inner[0] ?? "").slice(child.length)}`, ...inner.slice(1));
      }
    }
    return lines;
  }
  for (const [key, item] of Object.entries(value as Readonly<Record<string, Json>>)) {
    if (item === undefined) continue;
    const name = scalarText(key);
    if (isScalar(item)) {
      const block = typeof item === "string" ? blockString(item, child) : undefined;
      lines.push(`${indent}${name}: ${block ?? scalarText(item)}`);
    } else if (isEmpty(item)) {
      lines.push(`${indent}${name}: ${emptyText(item)}`);
    } else {
      // Sequences under a key sit at the key's indent (the common Kubernetes style).
      lines.push(`${indent}${name}:`, ...collection(item, Array.isArray(item) ? indent : child));
    }
  }
  return lines;
}

/** One YAML document (no `---`), ending with a newline. */
export function toYaml(value: Json): string {
  if (isScalar(value)) return `${scalarText(value)}\n`;
  if (isEmpty(value)) return `${emptyText(value)}\n`;
  return `${collection(value, "").join("\n")}\n`;
}

/** Several documents separated by `---`, after an optional comment header. */
export function toYamlDocuments(values: readonly Json[], header?: string): string {
  const head = header
    ? `${header
        .split("\n")
        .map((l) => (l ? `# ${l}` : "#"))
        .join("\n")}\n`
    : "";
  return head + values.map((v) => `---\n${toYaml(v)}`).join("");
}
