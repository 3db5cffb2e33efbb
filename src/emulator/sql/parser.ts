/**
 * Recursive-descent parser for the documented grammar, with SQL-92 precedence (loosest first):
 * OR, AND, NOT, then comparisons / IS [NOT] NULL / [NOT] IN / [NOT] LIKE (non-associative),
 * then `+ -`, then `* / %`, then unary `+ -`. The grammar keeps predicates (TRUE/FALSE/UNKNOWN)
 * and expressions (values) apart, so `NOT 5`, `(a = 1) + 1` or a bare `color` as a filter are
 * rejected here rather than at evaluation time.
 */

import type {
  ComparisonOperator,
  ExpressionNode,
  FunctionNode,
  Node,
  PredicateNode,
  PropertyNode,
  Value,
} from "./ast.js";
import { isExpressionNode } from "./ast.js";
import { SqlSyntaxError } from "./errors.js";
import type { Operator, Token } from "./lexer.js";
import { tokenize } from "./lexer.js";
import { canonicalSystemProperty } from "./properties.js";

const COMPARISON: ReadonlyMap<string, ComparisonOperator> = new Map<string, ComparisonOperator>([
  ["=", "="],
  ["<>", "<>"],
  ["!=", "<>"],
  [">", ">"],
  [">=", ">="],
  ["<", "<"],
  ["<=", "<="],
]);

/** Deep enough for any sensible filter; stops a hostile `((((...` from overflowing the stack. */
const MAX_DEPTH = 256;

export class Parser {
  readonly source: string;
  private readonly tokens: readonly Token[];
  /** Returned for any lookahead past the end, so peeking is total. */
  private readonly eof: Token;
  private index = 0;
  private depth = 0;

  constructor(source: string) {
    this.source = source;
    this.tokens = tokenize(source);
    this.eof = { kind: "eof", pos: source.length, text: "" };
  }

  peek(offset = 0): Token {
    return this.tokens[this.index + offset] ?? this.eof;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.index++;
    return token;
  }

  fail(problem: string, position: number): never {
    throw new SqlSyntaxError(problem, position, this.source);
  }

  expected(what: string, token: Token = this.peek()): never {
    return this.fail(`Expected ${what} but found ${describe(token)}`, token.pos);
  }

  isOperator(value: Operator, token: Token = this.peek()): boolean {
    return token.kind === "operator" && token.value === value;
  }

  isKeyword(value: string, token: Token = this.peek()): boolean {
    return token.kind === "keyword" && token.value === value;
  }

  /** A non-reserved word such as SET or REMOVE, case-insensitive. */
  isWord(upper: string, token: Token = this.peek()): boolean {
    return token.kind === "identifier" && token.upper === upper;
  }

  expectOperator(value: Operator): Token {
    if (!this.isOperator(value)) this.expected(`'${value}'`);
    return this.next();
  }

  expectEnd(what = "an operator or end of input"): void {
    if (this.peek().kind !== "eof") this.expected(what);
  }

  /** A whole filter: one predicate and nothing after it. */
  parseFilter(): PredicateNode {
    if (this.peek().kind === "eof") this.expected("a predicate");
    const node = this.predicate(this.parseOr());
    this.expectEnd();
    return node;
  }

  /** A value expression (the right-hand side of SET). */
  parseExpression(): ExpressionNode {
    return this.expression(this.parseOr());
  }

  /** `[sys. | user.] name`, or a bracketed / quoted user property name. */
  parseProperty(): PropertyNode {
    const token = this.peek();
    if (token.kind === "delimited") {
      this.next();
      return { type: "property", scope: "user", name: token.value, pos: token.pos };
    }
    if (token.kind !== "identifier") return this.expected("a property name");
    this.next();
    if (!this.isOperator(".")) return { type: "property", scope: "user", name: token.value, pos: token.pos };
    if (token.upper !== "SYS" && token.upper !== "USER") {
      this.fail(`Unknown scope '${token.text}' (expected sys or user)`, token.pos);
    }
    this.next();
    const nameToken = this.peek();
    if (nameToken.kind !== "identifier" && nameToken.kind !== "delimited")
      return this.expected("a property name");
    this.next();
    if (token.upper === "USER")
      return { type: "property", scope: "user", name: nameToken.value, pos: token.pos };
    const name = canonicalSystemProperty(nameToken.value);
    if (name === undefined) this.fail(`Unknown system property 'sys.${nameToken.value}'`, nameToken.pos);
    return { type: "property", scope: "sys", name, pos: token.pos };
  }

  private parseOr(): Node {
    const first = this.parseAnd();
    if (!this.isKeyword("OR")) return first;
    const operands = [this.predicate(first)];
    while (this.isKeyword("OR")) {
      this.next();
      operands.push(this.predicate(this.parseAnd()));
    }
    return { type: "or", operands, pos: first.pos };
  }

  private parseAnd(): Node {
    const first = this.parseNot();
    if (!this.isKeyword("AND")) return first;
    const operands = [this.predicate(first)];
    while (this.isKeyword("AND")) {
      this.next();
      operands.push(this.predicate(this.parseNot()));
    }
    return { type: "and", operands, pos: first.pos };
  }

  private parseNot(): Node {
    if (!this.isKeyword("NOT")) return this.parseComparison();
    const token = this.next();
    return this.nested(() => ({ type: "not", operand: this.predicate(this.parseNot()), pos: token.pos }));
  }

  private parseComparison(): Node {
    const left = this.parseAdditive();
    const operator = operatorOf(this.peek());
    const comparison = operator === undefined ? undefined : COMPARISON.get(operator);
    if (comparison !== undefined) {
      this.next();
      const right = this.expression(this.parseAdditive());
      return { type: "comparison", operator: comparison, left: this.expression(left), right, pos: left.pos };
    }
    if (this.isKeyword("IS")) {
      this.next();
      const negated = this.isKeyword("NOT");
      if (negated) this.next();
      if (!this.isKeyword("NULL")) this.expected("NULL");
      this.next();
      return { type: "isNull", operand: this.expression(left), negated, pos: left.pos };
    }
    let negated = false;
    if (this.isKeyword("NOT")) {
      const after = this.peek(1);
      if (!this.isKeyword("IN", after) && !this.isKeyword("LIKE", after))
        this.expected("IN or LIKE after NOT", after);
      this.next();
      negated = true;
    }
    if (this.isKeyword("IN")) {
      this.next();
      return { type: "in", operand: this.expression(left), list: this.parseInList(), negated, pos: left.pos };
    }
    if (this.isKeyword("LIKE")) {
      this.next();
      const pattern = this.expression(this.parseAdditive());
      let escape: ExpressionNode | undefined;
      if (this.isKeyword("ESCAPE")) {
        this.next();
        escape = this.expression(this.parseAdditive());
      }
      this.checkLikeConstants(pattern, escape);
      return { type: "like", operand: this.expression(left), pattern, escape, negated, pos: left.pos };
    }
    return left;
  }

  private parseInList(): ExpressionNode[] {
    this.expectOperator("(");
    const list: ExpressionNode[] = [];
    for (;;) {
      if (this.isOperator(")")) this.expected("an expression");
      list.push(this.expression(this.parseOr()));
      if (this.isOperator(",")) {
        this.next();
        continue;
      }
      if (this.isOperator(")")) {
        this.next();
        return list;
      }
      this.expected("',' or ')'");
    }
  }

  /** Constant patterns and escapes are checked now, so a typo fails when the rule is created. */
  private checkLikeConstants(pattern: ExpressionNode, escape: ExpressionNode | undefined): void {
    // NULL stays allowed: it is merely unknown, as in any comparison.
    if (pattern.type === "literal" && pattern.value !== null && typeof pattern.value !== "string") {
      this.fail("Expected a string pattern after LIKE", pattern.pos);
    }
    if (escape?.type !== "literal" || escape.value === null) return;
    if (typeof escape.value !== "string" || escape.value.length !== 1) {
      this.fail("ESCAPE must be a string of exactly one character", escape.pos);
    }
  }

  private parseAdditive(): Node {
    let left = this.parseMultiplicative();
    for (;;) {
      const operator = operatorOf(this.peek());
      if (operator !== "+" && operator !== "-") return left;
      this.next();
      const right = this.expression(this.parseMultiplicative());
      left = { type: "arithmetic", operator, left: this.expression(left), right, pos: left.pos };
    }
  }

  private parseMultiplicative(): Node {
    let left = this.parseUnary();
    for (;;) {
      const operator = operatorOf(this.peek());
      if (operator !== "*" && operator !== "/" && operator !== "%") return left;
      this.next();
      const right = this.expression(this.parseUnary());
      left = { type: "arithmetic", operator, left: this.expression(left), right, pos: left.pos };
    }
  }

  private parseUnary(): Node {
    const token = this.peek();
    const operator = operatorOf(token);
    if (operator !== "-" && operator !== "+") return this.parsePrimary();
    this.next();
    const operand = this.nested(() => this.expression(this.parseUnary()));
    // Fold `-5` into a constant so IN lists and LIKE checks see literals.
    if (
      operand.type === "literal" &&
      (typeof operand.value === "bigint" || typeof operand.value === "number")
    ) {
      const value: Value = operator === "+" ? operand.value : negateConstant(operand.value);
      return { type: "literal", value, pos: token.pos };
    }
    return { type: "unary", operator, operand, pos: token.pos };
  }

  private parsePrimary(): Node {
    const token = this.peek();
    switch (token.kind) {
      case "integer":
      case "decimal":
      case "string":
        this.next();
        return { type: "literal", value: token.value, pos: token.pos };
      case "keyword":
        return this.parseKeywordPrimary(token);
      case "delimited":
        return this.parseProperty();
      case "identifier":
        if (this.isOperator("(", this.peek(1))) return this.parseFunction(token);
        return this.parseProperty();
      case "operator":
        if (token.value !== "(") return this.expected("an expression");
        this.next();
        return this.nested(() => {
          const inner = this.parseOr();
          this.expectOperator(")");
          return inner;
        });
      case "eof":
        return this.expected("an expression");
    }
  }

  private parseKeywordPrimary(token: Token & { kind: "keyword" }): Node {
    switch (token.value) {
      case "TRUE":
      case "FALSE":
        this.next();
        return { type: "literal", value: token.value === "TRUE", pos: token.pos };
      case "NULL":
        this.next();
        return { type: "literal", value: null, pos: token.pos };
      case "EXISTS": {
        this.next();
        // The docs write EXISTS(prop); the parentheses are optional here, as in most SQL dialects.
        if (!this.isOperator("(")) return { type: "exists", property: this.parseProperty(), pos: token.pos };
        this.next();
        const property = this.parseProperty();
        this.expectOperator(")");
        return { type: "exists", property, pos: token.pos };
      }
      default:
        return this.expected("an expression");
    }
  }

  private parseFunction(token: Token & { kind: "identifier" }): FunctionNode {
    const name =
      token.upper === "NEWID"
        ? "newid"
        : token.upper === "PROPERTY" || token.upper === "P"
          ? "property"
          : undefined;
    if (name === undefined)
      this.fail(`Unknown function '${token.text}' (expected newid, property or p)`, token.pos);
    this.next();
    this.expectOperator("(");
    if (name === "newid") {
      this.expectOperator(")");
      return { type: "function", name, args: [], pos: token.pos };
    }
    if (this.isOperator(")")) this.expected("a property name expression");
    const arg = this.nested(() => this.expression(this.parseOr()));
    this.expectOperator(")");
    return { type: "function", name, args: [arg], pos: token.pos };
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_DEPTH) this.fail("Expression is nested too deeply", this.peek().pos);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private predicate(node: Node): PredicateNode {
    if (!isExpressionNode(node)) return node;
    // `color blue` or `NULL.x`: the stray token is the real mistake, not the missing comparison.
    const next = this.peek();
    if (next.kind !== "eof" && !this.isKeyword("AND") && !this.isKeyword("OR") && !this.isOperator(")")) {
      this.expected("an operator", next);
    }
    return this.fail(
      "Expected a predicate (a comparison, IN, LIKE, IS NULL or EXISTS) but found a value",
      node.pos,
    );
  }

  private expression(node: Node): ExpressionNode {
    if (!isExpressionNode(node)) this.fail("Expected a value but found a predicate", node.pos);
    return node;
  }
}

function operatorOf(token: Token): Operator | undefined {
  return token.kind === "operator" ? token.value : undefined;
}

function negateConstant(value: bigint | number): Value {
  return typeof value === "bigint" ? BigInt.asIntN(64, -value) : -value;
}

function describe(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "end of input";
    case "integer":
    case "decimal":
      return `number ${token.text}`;
    case "string":
      return `string ${token.text}`;
    case "keyword":
      return `keyword ${token.value}`;
    case "delimited":
      return token.text;
    case "identifier":
    case "operator":
      return `'${token.text}'`;
  }
}
