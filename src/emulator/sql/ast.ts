/**
 * Syntax tree of a filter predicate or an action expression. Every node keeps the offset of
 * its first token so the compiler can point at the offending part of the source.
 */

/** Runtime value inside the evaluator: integers are Int64 `bigint`, doubles are `number`, NULL/unknown is `null`. */
export type Value = string | number | bigint | boolean | Date | null;

export type Scope = "sys" | "user";

export type ComparisonOperator = "=" | "<>" | ">" | ">=" | "<" | "<=";
export type ArithmeticOperator = "+" | "-" | "*" | "/" | "%";

export interface LiteralNode {
  readonly type: "literal";
  readonly value: Value;
  readonly pos: number;
}

export interface PropertyNode {
  readonly type: "property";
  readonly scope: Scope;
  /** Canonical PascalCase key for `sys`, the name as written for `user`. */
  readonly name: string;
  readonly pos: number;
}

export interface FunctionNode {
  readonly type: "function";
  readonly name: "newid" | "property";
  readonly args: readonly ExpressionNode[];
  readonly pos: number;
}

export interface UnaryNode {
  readonly type: "unary";
  readonly operator: "+" | "-";
  readonly operand: ExpressionNode;
  readonly pos: number;
}

export interface ArithmeticNode {
  readonly type: "arithmetic";
  readonly operator: ArithmeticOperator;
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
  readonly pos: number;
}

export interface ComparisonNode {
  readonly type: "comparison";
  readonly operator: ComparisonOperator;
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
  readonly pos: number;
}

/** AND / OR chains are flattened so a long chain does not become a deep tree. */
export interface LogicalNode {
  readonly type: "and" | "or";
  readonly operands: readonly PredicateNode[];
  readonly pos: number;
}

export interface NotNode {
  readonly type: "not";
  readonly operand: PredicateNode;
  readonly pos: number;
}

export interface IsNullNode {
  readonly type: "isNull";
  readonly operand: ExpressionNode;
  readonly negated: boolean;
  readonly pos: number;
}

export interface InNode {
  readonly type: "in";
  readonly operand: ExpressionNode;
  readonly list: readonly ExpressionNode[];
  readonly negated: boolean;
  readonly pos: number;
}

export interface LikeNode {
  readonly type: "like";
  readonly operand: ExpressionNode;
  readonly pattern: ExpressionNode;
  readonly escape: ExpressionNode | undefined;
  readonly negated: boolean;
  readonly pos: number;
}

export interface ExistsNode {
  readonly type: "exists";
  readonly property: PropertyNode;
  readonly pos: number;
}

/** Nodes that yield a value (the grammar's `<expression>`). */
export type ExpressionNode = LiteralNode | PropertyNode | FunctionNode | UnaryNode | ArithmeticNode;

/** Nodes that yield TRUE / FALSE / UNKNOWN (the grammar's `<predicate>`). */
export type PredicateNode =
  ComparisonNode | LogicalNode | NotNode | IsNullNode | InNode | LikeNode | ExistsNode;

export type Node = ExpressionNode | PredicateNode;

export function isExpressionNode(node: Node): node is ExpressionNode {
  switch (node.type) {
    case "literal":
    case "property":
    case "function":
    case "unary":
    case "arithmetic":
      return true;
    default:
      return false;
  }
}
