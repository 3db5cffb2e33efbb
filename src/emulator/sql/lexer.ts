/**
 * Tokeniser for the Service Bus SQL filter/action language (a SQL-92 subset). Keywords are
 * case-insensitive; identifiers follow the documented `[[:IsLetter:]][_[:IsLetter:][:IsDigit:]]*`
 * rule, with `[delimited]` and `"quoted"` forms for any other name.
 */

import { SqlSyntaxError } from "./errors.js";

/** Words a regular identifier may not be; `[and]` or `"and"` still names a property. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "AND",
  "OR",
  "NOT",
  "IN",
  "IS",
  "NULL",
  "LIKE",
  "ESCAPE",
  "EXISTS",
  "TRUE",
  "FALSE",
]);

export type Operator =
  "=" | "<>" | "!=" | ">" | ">=" | "<" | "<=" | "+" | "-" | "*" | "/" | "%" | "(" | ")" | "," | "." | ";";

export type Token =
  | { readonly kind: "integer"; readonly value: bigint; readonly pos: number; readonly text: string }
  | { readonly kind: "decimal"; readonly value: number; readonly pos: number; readonly text: string }
  | { readonly kind: "string"; readonly value: string; readonly pos: number; readonly text: string }
  /** A regular identifier; `upper` is for keyword and scope checks. */
  | {
      readonly kind: "identifier";
      readonly value: string;
      readonly upper: string;
      readonly pos: number;
      readonly text: string;
    }
  /** `[name]` or `"name"`: always a name, never a keyword. */
  | { readonly kind: "delimited"; readonly value: string; readonly pos: number; readonly text: string }
  | { readonly kind: "keyword"; readonly value: string; readonly pos: number; readonly text: string }
  | { readonly kind: "operator"; readonly value: Operator; readonly pos: number; readonly text: string }
  | { readonly kind: "eof"; readonly pos: number; readonly text: "" };

const INT64_MAX = 2n ** 63n - 1n;
const LETTER = /\p{L}/u;
const IDENT_PART = /[_\p{L}\p{Nd}]/u;
const DIGIT = /[0-9]/;
const TWO_CHAR_OPERATORS: ReadonlySet<string> = new Set(["<>", "!=", ">=", "<="]);
const ONE_CHAR_OPERATORS: ReadonlySet<string> = new Set("=><+-*/%(),.;");

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (problem: string, at: number): never => {
    throw new SqlSyntaxError(problem, at, source);
  };

  while (i < source.length) {
    const ch = source.charAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;

    if (DIGIT.test(ch) || (ch === "." && DIGIT.test(source.charAt(i + 1)))) {
      i = scanNumber(source, i, tokens, fail);
      continue;
    }

    if (ch === "'") {
      const [value, end] = scanQuoted(source, i, "'", "'", () =>
        fail("Unterminated string literal (expected a closing ')", start),
      );
      tokens.push({ kind: "string", value, pos: start, text: source.slice(start, end) });
      i = end;
      continue;
    }
    if (ch === "[" || ch === '"') {
      const close = ch === "[" ? "]" : '"';
      const [value, end] = scanQuoted(source, i, ch, close, () =>
        fail(`Unterminated delimited identifier (expected a closing ${close})`, start),
      );
      if (value.length === 0) fail("Expected a property name inside the delimiters", start);
      tokens.push({ kind: "delimited", value, pos: start, text: source.slice(start, end) });
      i = end;
      continue;
    }

    if (LETTER.test(codePointAt(source, i))) {
      i += codePointAt(source, i).length;
      while (i < source.length && IDENT_PART.test(codePointAt(source, i))) i += codePointAt(source, i).length;
      const text = source.slice(start, i);
      const upper = text.toUpperCase();
      tokens.push(
        KEYWORDS.has(upper)
          ? { kind: "keyword", value: upper, pos: start, text }
          : { kind: "identifier", value: text, upper, pos: start, text },
      );
      continue;
    }

    const two = source.slice(i, i + 2);
    if (TWO_CHAR_OPERATORS.has(two)) {
      tokens.push({ kind: "operator", value: two as Operator, pos: start, text: two });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPERATORS.has(ch)) {
      tokens.push({ kind: "operator", value: ch as Operator, pos: start, text: ch });
      i++;
      continue;
    }
    fail(`Unexpected character ${JSON.stringify(codePointAt(source, i))}`, start);
  }
  tokens.push({ kind: "eof", pos: source.length, text: "" });
  return tokens;
}

/** integer: digits; decimal: digits with a point; approximate: with an exponent (a double). */
function scanNumber(
  source: string,
  start: number,
  tokens: Token[],
  fail: (p: string, at: number) => never,
): number {
  let i = start;
  while (DIGIT.test(source.charAt(i))) i++;
  let isInteger = true;
  if (source.charAt(i) === ".") {
    isInteger = false;
    i++;
    while (DIGIT.test(source.charAt(i))) i++;
  }
  if (/[eE]/.test(source.charAt(i))) {
    const signed = /[+-]/.test(source.charAt(i + 1)) ? 1 : 0;
    if (!DIGIT.test(source.charAt(i + 1 + signed))) fail("Expected digits in the exponent of a number", i);
    isInteger = false;
    i += 1 + signed;
    while (DIGIT.test(source.charAt(i))) i++;
  }
  // `12abc` or `1.2.3` is a typo, not a number followed by a name.
  if (i < source.length && (IDENT_PART.test(codePointAt(source, i)) || source.charAt(i) === ".")) {
    fail(`Unexpected character ${JSON.stringify(codePointAt(source, i))} after a number`, i);
  }
  const text = source.slice(start, i);
  if (isInteger) {
    const value = BigInt(text);
    // Integer constants are Int64 in the service.
    if (value > INT64_MAX) fail(`Integer constant ${text} is out of range (Int64)`, start);
    tokens.push({ kind: "integer", value, pos: start, text });
  } else {
    const value = Number(text);
    if (!Number.isFinite(value)) fail(`Numeric constant ${text} is out of range (Double)`, start);
    tokens.push({ kind: "decimal", value, pos: start, text });
  }
  return i;
}

/** Reads `open ... close` where a doubled `close` stands for itself; returns [value, end]. */
function scanQuoted(
  source: string,
  start: number,
  open: string,
  close: string,
  onEof: () => never,
): [string, number] {
  let i = start + open.length;
  let value = "";
  for (;;) {
    const at = source.indexOf(close, i);
    if (at < 0) return onEof();
    value += source.slice(i, at);
    if (source.charAt(at + 1) === close) {
      value += close;
      i = at + 2;
      continue;
    }
    return [value, at + 1];
  }
}

/** The whole code point at `i`, so letters outside the BMP count as letters. */
function codePointAt(source: string, i: number): string {
  const cp = source.codePointAt(i);
  return cp === undefined ? "" : String.fromCodePoint(cp);
}
