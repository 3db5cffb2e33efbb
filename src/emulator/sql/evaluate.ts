/**
 * Turns a syntax tree into closures once, so matching a message is a few calls with no
 * parsing or tree dispatch. Every closure is total: NULL, missing properties, type mismatches
 * and division by zero become UNKNOWN (`null`), never an exception.
 */

import { randomUUID } from "node:crypto";

import type {
  ArithmeticNode,
  ComparisonNode,
  ExpressionNode,
  FunctionNode,
  InNode,
  LikeNode,
  PredicateNode,
  PropertyNode,
  Value,
} from "./ast.js";
import { LikeCache, likeToRegExp } from "./like.js";
import { canonicalSystemProperty, readSystemProperty, readUserProperty } from "./properties.js";
import type { FilterableMessage } from "./types.js";
import type { Truth } from "./values.js";
import { arithmetic, asArithmeticOperand, equals, fromMessage, identity, negate, order } from "./values.js";

export type ValueFn = (msg: FilterableMessage) => Value;
export type PredicateFn = (msg: FilterableMessage) => Truth;

export function compilePredicate(node: PredicateNode): PredicateFn {
  switch (node.type) {
    case "and":
      return compileAnd(node.operands.map(compilePredicate));
    case "or":
      return compileOr(node.operands.map(compilePredicate));
    case "not": {
      const operand = compilePredicate(node.operand);
      return (msg) => {
        const value = operand(msg);
        return value === null ? null : !value;
      };
    }
    case "comparison":
      return compileComparison(node);
    case "isNull": {
      // IS NULL is the one test that sees through unknown: missing and NULL are both "null".
      const operand = compileValue(node.operand);
      return node.negated ? (msg) => operand(msg) !== null : (msg) => operand(msg) === null;
    }
    case "in":
      return compileIn(node);
    case "like":
      return compileLike(node);
    case "exists": {
      const read = compileRawProperty(node.property);
      return (msg) => read(msg) !== undefined;
    }
  }
}

export function compileValue(node: ExpressionNode): ValueFn {
  switch (node.type) {
    case "literal": {
      const value = node.value;
      return () => value;
    }
    case "property": {
      const read = compileRawProperty(node);
      return (msg) => fromMessage(read(msg));
    }
    case "function":
      return compileFunction(node);
    case "unary": {
      const operand = compileArithmeticOperand(node.operand);
      return node.operator === "-" ? (msg) => negate(operand(msg)) : (msg) => identity(operand(msg));
    }
    case "arithmetic":
      return compileArithmetic(node);
  }
}

/** Truth tables from the docs: FALSE dominates AND, TRUE dominates OR, otherwise UNKNOWN wins. */
function compileAnd(operands: readonly PredicateFn[]): PredicateFn {
  return (msg) => {
    let result: Truth = true;
    for (const operand of operands) {
      const value = operand(msg);
      if (value === false) return false;
      if (value === null) result = null;
    }
    return result;
  };
}

function compileOr(operands: readonly PredicateFn[]): PredicateFn {
  return (msg) => {
    let result: Truth = false;
    for (const operand of operands) {
      const value = operand(msg);
      if (value === true) return true;
      if (value === null) result = null;
    }
    return result;
  };
}

function compileComparison(node: ComparisonNode): PredicateFn {
  const left = compileValue(node.left);
  const right = compileValue(node.right);
  switch (node.operator) {
    case "=":
      return (msg) => equals(left(msg), right(msg));
    case "<>":
      return (msg) => {
        const value = equals(left(msg), right(msg));
        return value === null ? null : !value;
      };
    case "<":
      return (msg) => {
        const sign = order(left(msg), right(msg));
        return sign === null ? null : sign < 0;
      };
    case "<=":
      return (msg) => {
        const sign = order(left(msg), right(msg));
        return sign === null ? null : sign <= 0;
      };
    case ">":
      return (msg) => {
        const sign = order(left(msg), right(msg));
        return sign === null ? null : sign > 0;
      };
    case ">=":
      return (msg) => {
        const sign = order(left(msg), right(msg));
        return sign === null ? null : sign >= 0;
      };
  }
}

/**
 * Per the docs only an unknown left operand makes IN unknown; list items that are NULL or of
 * another type simply do not match (the service tests membership, not SQL-92 `=` chains).
 */
function compileIn(node: InNode): PredicateFn {
  const operand = compileValue(node.operand);
  const items = node.list.map(compileValue);
  const negated = node.negated;
  return (msg) => {
    const value = operand(msg);
    if (value === null) return null;
    for (const item of items) {
      if (equals(value, item(msg)) === true) return !negated;
    }
    return negated;
  };
}

function compileLike(node: LikeNode): PredicateFn {
  const operand = compileValue(node.operand);
  const negated = node.negated;
  const patternValue = node.pattern.type === "literal" ? node.pattern.value : undefined;
  const escapeValue =
    node.escape === undefined ? undefined : node.escape.type === "literal" ? node.escape.value : null;
  if (typeof patternValue === "string" && (escapeValue === undefined || typeof escapeValue === "string")) {
    // Both constant (the usual case): build the regular expression once. The parser has
    // already checked that a constant escape is one character.
    const regexp = likeToRegExp(patternValue, escapeValue);
    return (msg) => {
      const value = operand(msg);
      return typeof value === "string" ? regexp.test(value) !== negated : null;
    };
  }
  const pattern = compileValue(node.pattern);
  const escape = node.escape === undefined ? undefined : compileValue(node.escape);
  const cache = new LikeCache();
  return (msg) => {
    const value = operand(msg);
    const text = pattern(msg);
    const escapeChar = escape === undefined ? undefined : escape(msg);
    if (typeof value !== "string" || typeof text !== "string") return null;
    if (escapeChar !== undefined && (typeof escapeChar !== "string" || escapeChar.length !== 1)) return null;
    return cache.get(text, escapeChar).test(value) !== negated;
  };
}

function compileArithmetic(node: ArithmeticNode): ValueFn {
  const left = compileArithmeticOperand(node.left);
  const right = compileArithmeticOperand(node.right);
  const operator = node.operator;
  return (msg) => arithmetic(operator, left(msg), right(msg));
}

/** Property and function values get their int/double tag here (see asArithmeticOperand). */
function compileArithmeticOperand(node: ExpressionNode): ValueFn {
  const value = compileValue(node);
  return node.type === "property" || node.type === "function"
    ? (msg) => asArithmeticOperand(value(msg))
    : value;
}

function compileFunction(node: FunctionNode): ValueFn {
  if (node.name === "newid") return () => randomUUID();
  const [nameNode] = node.args;
  if (nameNode === undefined) return () => null;
  const name = compileValue(nameNode);
  return (msg) => {
    const text = name(msg);
    return typeof text === "string" ? fromMessage(readNamedProperty(msg, text)) : null;
  };
}

/**
 * `property('sys.Label')`, `property('user.color')` or `property('color')`. An unknown system
 * name is unknown here rather than an error, because the name is only known per message.
 */
function readNamedProperty(msg: FilterableMessage, reference: string): unknown {
  const dot = reference.indexOf(".");
  const scope = dot < 0 ? "" : reference.slice(0, dot).toLowerCase();
  if (scope === "sys") {
    const name = canonicalSystemProperty(reference.slice(dot + 1));
    return name === undefined ? undefined : readSystemProperty(msg.system, name);
  }
  return readUserProperty(msg.user, scope === "user" ? reference.slice(dot + 1) : reference);
}

/** The stored value, `undefined` when absent (EXISTS needs absent apart from NULL). */
function compileRawProperty(node: PropertyNode): (msg: FilterableMessage) => unknown {
  const name = node.name;
  if (node.scope === "user") return (msg) => readUserProperty(msg.user, name);
  const canonical = canonicalSystemProperty(name);
  if (canonical === undefined) return () => undefined;
  return (msg) => readSystemProperty(msg.system, canonical);
}
