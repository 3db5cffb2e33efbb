/**
 * Operators on runtime values, following the documented "C# operator binding" semantics where
 * JS can express them: Int64 arithmetic (truncating division) on integers, double arithmetic
 * as soon as one side is a double, string `+` concatenation, and no implicit conversion
 * between strings, numbers, booleans and dates. Anything that C# would not bind, and every
 * NULL/unknown operand, yields unknown (`null`) instead of an exception.
 */

import type { ArithmeticOperator, Value } from "./ast.js";
import type { SqlValue } from "./types.js";

/** Three-valued logic: `null` is UNKNOWN. */
export type Truth = boolean | null;

/** Accepts whatever the message holds; anything outside SqlValue (or undefined) is unknown. */
export function fromMessage(raw: unknown): Value {
  switch (typeof raw) {
    case "string":
    case "number":
    case "boolean":
      return raw;
    case "bigint":
      return BigInt.asIntN(64, raw);
    case "object":
      return raw instanceof Date ? raw : null;
    default:
      return null;
  }
}

/**
 * A message property number carries no int/double tag, so an integral one is taken as an
 * integer when it enters arithmetic (`quantity / 2` divides like the service's Int64).
 */
export function asArithmeticOperand(value: Value): Value {
  return typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : value;
}

/** Back to the message representation: Int64 becomes a JS number. */
export function toSqlValue(value: Value): SqlValue {
  return typeof value === "bigint" ? Number(value) : value;
}

function isNumeric(value: Value): value is number | bigint {
  return typeof value === "number" || typeof value === "bigint";
}

/** `=`: numbers numerically (int vs double is fine), strings ordinally, booleans, dates by instant. */
export function equals(left: Value, right: Value): Truth {
  if (left === null || right === null) return null;
  if (isNumeric(left)) return isNumeric(right) ? left == right : null;
  if (typeof left === "string") return typeof right === "string" ? left === right : null;
  if (typeof left === "boolean") return typeof right === "boolean" ? left === right : null;
  return right instanceof Date ? left.getTime() === right.getTime() : null;
}

/**
 * Sign of `left - right` for the ordering operators, NaN when a NaN is involved (every
 * ordering is then false, as in C#), null when the types have no ordering: C# has no `<`
 * on strings or booleans.
 */
export function order(left: Value, right: Value): number | null {
  if (left === null || right === null) return null;
  if (isNumeric(left) && isNumeric(right))
    return left < right ? -1 : left > right ? 1 : left == right ? 0 : NaN;
  if (left instanceof Date && right instanceof Date) return Math.sign(left.getTime() - right.getTime());
  return null;
}

export function arithmetic(operator: ArithmeticOperator, left: Value, right: Value): Value {
  if (left === null || right === null) return null;
  if (typeof left === "bigint" && typeof right === "bigint") return integerArithmetic(operator, left, right);
  if (isNumeric(left) && isNumeric(right)) return doubleArithmetic(operator, Number(left), Number(right));
  if (operator === "+" && (typeof left === "string" || typeof right === "string")) {
    const l = concatText(left);
    const r = concatText(right);
    return l === null || r === null ? null : l + r;
  }
  return null;
}

/** Int64 semantics: wraps on overflow (C# unchecked); division by zero is unknown, not a crash. */
function integerArithmetic(operator: ArithmeticOperator, left: bigint, right: bigint): Value {
  switch (operator) {
    case "+":
      return BigInt.asIntN(64, left + right);
    case "-":
      return BigInt.asIntN(64, left - right);
    case "*":
      return BigInt.asIntN(64, left * right);
    case "/":
      return right === 0n ? null : BigInt.asIntN(64, left / right);
    case "%":
      return right === 0n ? null : left % right;
  }
}

function doubleArithmetic(operator: ArithmeticOperator, left: number, right: number): number {
  switch (operator) {
    case "+":
      return left + right;
    case "-":
      return left - right;
    case "*":
      return left * right;
    case "/":
      return left / right;
    case "%":
      return left % right;
  }
}

/** How C# renders the non-string side of `string + x`; dates have no culture-free form here. */
function concatText(value: Value): string | null {
  switch (typeof value) {
    case "string":
      return value;
    case "bigint":
    case "number":
      return String(value);
    case "boolean":
      return value ? "True" : "False";
    default:
      return null;
  }
}

export function negate(value: Value): Value {
  if (typeof value === "bigint") return BigInt.asIntN(64, -value);
  if (typeof value === "number") return -value;
  return null;
}

/** Unary `+` only binds to numbers. */
export function identity(value: Value): Value {
  return isNumeric(value) ? value : null;
}
