import assert from "node:assert/strict";

import {
  SqlSyntaxError,
  compileSqlAction,
  compileSqlFilter,
  isSqlSyntaxError,
} from "../../../src/emulator/sql/index.js";

type Row = readonly [behaviour: string, expression: string, position: number, mentions: string];

const REJECTED_FILTERS: readonly Row[] = [
  ["an empty filter", "", 0, "Expected a predicate but found end of input"],
  ["a blank filter", "   ", 3, "Expected a predicate"],
  ["an unclosed IN list", "a IN (1, 2", 10, "Expected ',' or ')' but found end of input"],
  ["an unclosed parenthesis", "(a = 1", 6, "Expected ')'"],
  ["an unopened parenthesis", "a = 1)", 5, "found ')'"],
  ["an unterminated string", "a = 'abc", 4, "Unterminated string literal"],
  ["a string whose last quote is an escaped one", "a = 'it''s", 4, "Unterminated string literal"],
  ["an unterminated bracketed name", "[x = 1", 0, "Unterminated delimited identifier"],
  ["an unterminated quoted name", '"x = 1', 0, "Unterminated delimited identifier"],
  ["an empty bracketed name", "[] = 1", 0, "Expected a property name"],
  ["== (not an operator)", "a == 1", 3, "Expected an expression but found '='"],
  ["&& (unknown character)", "a && b", 2, 'Unexpected character "&"'],
  ["a lone !", "a ! 1", 2, 'Unexpected character "!"'],
  ["IN with an empty list", "a IN ()", 6, "Expected an expression but found ')'"],
  ["IN without parentheses", "a IN 1, 2", 5, "Expected '('"],
  ["an IN list with a trailing comma", "a IN (1,)", 8, "Expected an expression"],
  [
    "an ESCAPE of two characters",
    "a LIKE 'x' ESCAPE 'ab'",
    18,
    "ESCAPE must be a string of exactly one character",
  ],
  ["an empty ESCAPE", "a LIKE 'x' ESCAPE ''", 18, "ESCAPE must be"],
  ["a numeric ESCAPE", "a LIKE 'x' ESCAPE 1", 18, "ESCAPE must be"],
  ["a numeric LIKE pattern", "a LIKE 5", 7, "Expected a string pattern after LIKE"],
  ["an unknown scope", "foo.bar = 1", 0, "Unknown scope 'foo'"],
  ["an unknown system property", "sys.Nope = 1", 4, "Unknown system property 'sys.Nope'"],
  ["a scope without a name", "sys. = 1", 5, "Expected a property name"],
  ["a keyword as a property name", "AND = 1", 0, "Expected an expression but found keyword AND"],
  ["a keyword as a value", "a = AND", 4, "found keyword AND"],
  ["a keyword after a scope", "user.and = 1", 5, "Expected a property name but found keyword AND"],
  ["NULL as a property name", "NULL IS NULL AND NULL.x = 1", 21, "Expected an operator but found '.'"],
  ["a dangling AND", "a = 1 AND", 9, "Expected an expression but found end of input"],
  ["a bare property as the whole filter", "color", 0, "Expected a predicate"],
  ["two names without an operator", "color blue", 6, "Expected an operator but found 'blue'"],
  ["a constant as the whole filter", "TRUE", 0, "Expected a predicate"],
  ["NOT applied to a value", "NOT 5", 4, "Expected a predicate"],
  ["AND applied to a value", "a = 1 AND b", 10, "Expected a predicate"],
  ["arithmetic on a predicate", "(a = 1) + 1 = 2", 1, "Expected a value but found a predicate"],
  ["comparing a predicate", "(a = 1) = TRUE", 1, "Expected a value but found a predicate"],
  ["trailing garbage", "1 = 1 extra", 6, "Expected an operator or end of input but found 'extra'"],
  ["chained comparisons", "a = 1 = 2", 6, "found '='"],
  ["a semicolon in a filter", "a = 1;", 5, "found ';'"],
  ["IS followed by a value", "a IS 5", 5, "Expected NULL"],
  ["IS NOT followed by a value", "sys.Label IS NOT 'x'", 17, "Expected NULL"],
  ["NOT BETWEEN (unsupported)", "a NOT BETWEEN 1 AND 2", 6, "Expected IN or LIKE after NOT"],
  ["EXISTS of a constant", "EXISTS(1)", 7, "Expected a property name but found number 1"],
  ["an unclosed EXISTS", "EXISTS(a", 8, "Expected ')'"],
  ["an unknown function", "foo(1) = 1", 0, "Unknown function 'foo'"],
  ["newid with an argument", "newid(1) = 1", 6, "Expected ')'"],
  ["property() without an argument", "property() = 1", 9, "Expected a property name expression"],
  ["a name starting with an underscore", "_x = 1", 0, 'Unexpected character "_"'],
  ["a number glued to a name", "12abc = 1", 2, "after a number"],
  ["an exponent without digits", "1e = 1", 1, "Expected digits in the exponent"],
  ["a number with two points", "1.2.3 = 1", 3, "after a number"],
  ["an integer beyond Int64", "99999999999999999999 = 1", 0, "out of range"],
  ["absurdly deep nesting", `${"(".repeat(300)}1 = 1${")".repeat(300)}`, 257, "nested too deeply"],
];

const REJECTED_ACTIONS: readonly Row[] = [
  ["an empty action", "", 0, "Expected SET or REMOVE but found end of input"],
  ["SET without a property", "SET", 3, "Expected a property name"],
  ["SET without =", "SET a", 5, "Expected '='"],
  ["SET without a value", "SET a =", 7, "Expected an expression"],
  [
    "two statements run together without a keyword",
    "SET a = 1 b = 2",
    10,
    "Expected ';', SET, REMOVE or end of input",
  ],
  ["an unknown statement", "UPDATE a = 1", 0, "Expected SET or REMOVE but found 'UPDATE'"],
  ["an empty statement between semicolons", "SET a = 1;;", 10, "Expected SET, REMOVE or end of input"],
  ["a leading semicolon", "; SET a = 1", 0, "Expected SET or REMOVE"],
  ["REMOVE without a property", "REMOVE", 6, "Expected a property name"],
  [
    "SET of a read-only system property",
    "SET sys.SequenceNumber = 1",
    4,
    "'sys.SequenceNumber' is read-only",
  ],
  ["REMOVE of a read-only system property", "REMOVE sys.EnqueuedTimeUtc", 7, "is read-only"],
  ["SET of an unknown system property", "SET sys.Nope = 1", 8, "Unknown system property"],
  ["SET of an unknown scope", "SET foo.bar = 1", 4, "Unknown scope 'foo'"],
  ["a predicate as the value", "SET a = b = c", 8, "Expected a value but found a predicate"],
  ["a filter-only operator as the value", "SET a = b LIKE 'x'", 8, "Expected a value but found a predicate"],
  ["an unterminated string in a value", "SET a = 'x", 8, "Unterminated string literal"],
];

function assertRejected(
  compile: (expression: string) => unknown,
  [, expression, position, mentions]: Row,
): void {
  let caught: unknown;
  try {
    compile(expression);
  } catch (e) {
    caught = e;
  }
  assert.ok(isSqlSyntaxError(caught), `expected a SqlSyntaxError, got ${String(caught)}`);
  assert.ok(caught instanceof SqlSyntaxError);
  assert.equal(caught.code, "SqlSyntaxError");
  assert.equal(caught.position, position, caught.message);
  assert.ok(caught.message.includes(`at position ${position}`), caught.message);
  assert.ok(
    caught.message.includes(mentions),
    `${JSON.stringify(caught.message)} should mention ${mentions}`,
  );
  assert.ok(!caught.message.includes("\n"), "the message is one line");
}

describe("SQL syntax errors", () => {
  describe("rejected filters", () => {
    for (const row of REJECTED_FILTERS) {
      it(`rejects ${row[0]}: ${row[1].length > 40 ? `${row[1].slice(0, 40)}…` : row[1]}`, () => {
        assertRejected(compileSqlFilter, row);
      });
    }
  });

  describe("rejected actions", () => {
    for (const row of REJECTED_ACTIONS) {
      it(`rejects ${row[0]}: ${row[1]}`, () => {
        assertRejected(compileSqlAction, row);
      });
    }
  });

  it("names the expression in the message, escaped onto one line", () => {
    const error = catchError(() => compileSqlFilter("a = 1\nAND"));
    assert.equal(
      error.message,
      'Expected an expression but found end of input at position 9 in "a = 1\\nAND"',
    );
  });

  it('formats the message as: problem at position N in "expression"', () => {
    const error = catchError(() => compileSqlFilter("a IN (1, 2"));
    assert.equal(error.message, `Expected ',' or ')' but found end of input at position 10 in "a IN (1, 2"`);
    assert.equal(error.problem, "Expected ',' or ')' but found end of input");
    assert.equal(error.expression, "a IN (1, 2");
  });

  it("isSqlSyntaxError recognises a copy from another module instance by its code", () => {
    const foreign = Object.assign(new Error("x"), { code: "SqlSyntaxError", position: 3 });
    assert.equal(isSqlSyntaxError(foreign), true);
    assert.equal(isSqlSyntaxError(new Error("x")), false);
    assert.equal(isSqlSyntaxError({ code: "SqlSyntaxError", position: 3 }), false);
  });
});

function catchError(fn: () => unknown): SqlSyntaxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SqlSyntaxError) return e;
    throw e;
  }
  throw new Error("expected a SqlSyntaxError");
}
