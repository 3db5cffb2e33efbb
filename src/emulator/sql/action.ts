/**
 * SQL rule actions: `SET <property> = <expression>` and `REMOVE <property>`, each optionally
 * followed by `;` (so `SET a = 1; REMOVE b;` and `SET a = 1 SET b = 2` both parse). Statements
 * run in order and see the effects of the earlier ones.
 */

import type { ExpressionNode, PropertyNode, Value } from "./ast.js";
import type { ValueFn } from "./evaluate.js";
import { compileValue } from "./evaluate.js";
import { Parser } from "./parser.js";
import type { SystemPropertyName, SystemPropertyType } from "./properties.js";
import { SETTABLE_SYSTEM_PROPERTIES, findUserKey } from "./properties.js";
import type { FilterableMessage, SqlRuleAction, SqlValue } from "./types.js";
import { toSqlValue } from "./values.js";

type Statement = (msg: FilterableMessage) => void;

/** Throws SqlSyntaxError when `expression` is not a valid Service Bus SQL rule action. */
export function compileSqlAction(expression: string): SqlRuleAction {
  const statements = parseStatements(new Parser(expression));
  return {
    expression,
    apply(msg: FilterableMessage): void {
      for (const statement of statements) {
        try {
          statement(msg);
        } catch {
          // Statements are written not to throw; one odd message must not stop the others.
        }
      }
    },
  };
}

function parseStatements(parser: Parser): Statement[] {
  const statements: Statement[] = [];
  // What may come next: a statement first and after a ';', also ';' or the end after a statement.
  let expecting = "SET or REMOVE";
  if (parser.peek().kind === "eof") parser.expected(expecting);
  while (parser.peek().kind !== "eof") {
    if (parser.isWord("SET")) {
      parser.next();
      const target = settable(parser, parser.parseProperty());
      parser.expectOperator("=");
      statements.push(compileSet(target, parser.parseExpression()));
    } else if (parser.isWord("REMOVE")) {
      parser.next();
      statements.push(compileRemove(settable(parser, parser.parseProperty())));
    } else {
      parser.expected(expecting);
    }
    expecting = "';', SET, REMOVE or end of input";
    if (parser.isOperator(";")) {
      parser.next();
      expecting = "SET, REMOVE or end of input";
    }
  }
  return statements;
}

type Target = { readonly scope: "user"; readonly name: string } | SystemTarget;
interface SystemTarget {
  readonly scope: "sys";
  readonly name: SystemPropertyName;
  readonly kind: SystemPropertyType;
}

/** Broker-assigned system properties (SequenceNumber, EnqueuedTimeUtc, ...) cannot be changed. */
function settable(parser: Parser, property: PropertyNode): Target {
  if (property.scope === "user") return { scope: "user", name: property.name };
  const name = property.name as SystemPropertyName;
  const kind = SETTABLE_SYSTEM_PROPERTIES.get(name);
  if (kind === undefined) {
    const allowed = [...SETTABLE_SYSTEM_PROPERTIES.keys()].join(", ");
    parser.fail(`System property 'sys.${name}' is read-only (settable: ${allowed})`, property.pos);
  }
  return { scope: "sys", name, kind };
}

function compileSet(target: Target, node: ExpressionNode): Statement {
  const value: ValueFn = compileValue(node);
  if (target.scope === "user") {
    const name = target.name;
    return (msg) => {
      // Property names are case-insensitive: overwrite an existing `Color` rather than add `color`.
      msg.user[findUserKey(msg.user, name) ?? name] = toSqlValue(value(msg));
    };
  }
  const { name, kind } = target;
  return (msg) => {
    const result = value(msg);
    if (result === null) {
      // SET x = NULL (or an unknown value) clears the property, like SQL's SET col = NULL.
      delete msg.system[name];
      return;
    }
    const converted = convertForSystem(kind, result);
    // A value with no sensible conversion leaves the property as it was.
    if (converted !== undefined) msg.system[name] = converted;
  };
}

function compileRemove(target: Target): Statement {
  const name = target.name;
  if (target.scope === "sys") {
    return (msg) => {
      delete msg.system[name];
    };
  }
  return (msg) => {
    const key = findUserKey(msg.user, name);
    if (key !== undefined) delete msg.user[key];
  };
}

/**
 * The documented "implicit conversion if possible" for the typed system properties;
 * undefined means there is none.
 */
function convertForSystem(kind: SystemPropertyType, value: Exclude<Value, null>): SqlValue | undefined {
  switch (kind) {
    case "string":
      if (typeof value === "string") return value;
      return typeof value === "number" || typeof value === "bigint" ? String(value) : undefined;
    case "date":
      if (value instanceof Date) return value;
      if (typeof value === "string") {
        const parsed = Date.parse(value);
        return Number.isNaN(parsed) ? undefined : new Date(parsed);
      }
      return undefined;
    case "duration": {
      // TimeToLive is milliseconds in this model; negative or non-finite values are not durations.
      const ms = typeof value === "bigint" ? Number(value) : value;
      return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
    }
  }
}
