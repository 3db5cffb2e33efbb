import assert from "node:assert/strict";

import type { FilterableMessage, SqlValue } from "../../../src/emulator/sql/index.js";
import { compileSqlFilter } from "../../../src/emulator/sql/index.js";
import { message } from "./fixtures.js";

type Row = readonly [behaviour: string, expression: string, expected: boolean, msg?: FilterableMessage];

const ROWS: readonly Row[] = [
  // comparison operators
  ["= matches equal integers", "quantity = 10", true],
  ["= compares an integer with a decimal numerically", "quantity = 10.0", true],
  ["= matches a decimal property", "price = 2.5", true],
  ["<> is false for equal values", "quantity <> 10", false],
  ["!= is a synonym of <>", "quantity != 9", true],
  ["> compares numbers", "quantity > 9", true],
  [">= includes equality", "quantity >= 10", true],
  ["< is false for equal values", "quantity < 10", false],
  ["<= includes equality", "quantity <= 10", true],
  ["1=1 is the true filter", "1=1", true],
  ["1=0 is the false filter", "1=0", false],
  ["strings compare with =", "color = 'red'", true],
  ["string equality is case-sensitive", "color = 'RED'", false],
  ["<> on strings", "color <> 'blue'", true],
  ["booleans compare with TRUE", "flag = TRUE", true],
  ["booleans compare with <> FALSE", "flag <> FALSE", true],
  ["'' escapes a quote in a string constant", "'it''s' = 'it' + '''' + 's'", true],
  ["dates compare with dates", "when > sys.EnqueuedTimeUtc", true],
  ["a date equals itself", "sys.EnqueuedTimeUtc = sys.EnqueuedTimeUtc", true],
  ["approximate constants use an exponent", "1.5E2 = 150 AND 0.5E-2 = 0.005", true],
  ["a decimal may start with a point", ".5 = 0.5", true],

  // type mismatches are unknown, never errors
  ["string vs number is unknown", "color = 1", false],
  ["NOT of a string vs number comparison is still unknown", "NOT color = 1", false],
  ["number vs string is unknown (no implicit conversion)", "quantity = '10'", false],
  ["boolean vs number is unknown", "flag = 1", false],
  ["strings have no ordering", "color > 'a'", false],
  ["NOT of a string ordering is unknown", "NOT color > 'a'", false],
  ["booleans have no ordering", "flag > FALSE", false],
  ["a date vs a string is unknown", "sys.EnqueuedTimeUtc = '2024-01-02T03:04:05Z'", false],

  // NULL and missing properties
  ["comparing a missing property is unknown", "missing = 1", false],
  ["NOT unknown is unknown", "NOT missing = 1", false],
  ["<> with a missing property is unknown", "missing <> 1", false],
  ["a missing property IS NULL", "missing IS NULL", true],
  ["a missing property is not IS NOT NULL", "missing IS NOT NULL", false],
  ["a property holding null IS NULL", "nothing IS NULL", true],
  ["a set property is not NULL", "color IS NULL", false],
  ["IS NOT NULL on a set property", "color IS NOT NULL", true],
  ["NULL = NULL is unknown", "NULL = NULL", false],
  ["NOT (NULL = NULL) is unknown", "NOT (NULL = NULL)", false],
  ["comparing with the NULL constant is unknown", "quantity = NULL", false],
  ["an absent system property is unknown", "sys.PartitionKey = 'x'", false],
  ["an absent system property IS NULL", "sys.PartitionKey IS NULL", true],

  // EXISTS
  ["EXISTS finds a user property", "EXISTS(color)", true],
  ["EXISTS is false for a missing property", "EXISTS(missing)", false],
  ["EXISTS is true for a property holding null", "EXISTS nothing", true],
  ["NOT EXISTS on a missing property", "NOT EXISTS (missing)", true],
  ["EXISTS on a set system property", "EXISTS(sys.Label)", true],
  ["EXISTS on an absent system property", "EXISTS(sys.PartitionKey)", false],
  ["EXISTS takes a bracketed name", "EXISTS([Property With Space])", true],

  // three-valued AND / OR / NOT
  ["unknown OR true is true", "missing = 1 OR color = 'red'", true],
  ["unknown AND false is false, so NOT of it is true", "NOT (missing = 1 AND color = 'blue')", true],
  ["unknown AND true is unknown", "NOT (missing = 1 AND color = 'red')", false],
  ["unknown OR false is unknown", "NOT (missing = 1 OR color = 'blue')", false],
  ["AND of two trues", "color = 'red' AND quantity = 10", true],
  ["OR with one true", "color = 'blue' OR quantity = 10", true],
  ["NOT negates", "NOT color = 'red'", false],
  ["NOT NOT restores", "NOT NOT color = 'red'", true],
  ["long OR chains evaluate", "quantity = 1 OR quantity = 2 OR quantity = 3 OR quantity = 10", true],

  // precedence
  ["AND binds tighter than OR", "1 = 0 AND 1 = 0 OR 1 = 1", true],
  ["AND binds tighter than OR on the right", "1 = 1 OR 1 = 1 AND 1 = 0", true],
  ["parentheses override AND/OR precedence", "(1 = 1 OR 1 = 1) AND 1 = 0", false],
  ["NOT binds tighter than AND", "NOT 1 = 0 AND 1 = 1", true],
  ["* binds tighter than +", "2 + 3 * 4 = 14", true],
  ["parentheses override arithmetic precedence", "(2 + 3) * 4 = 20", true],
  ["- is left-associative", "10 - 2 - 3 = 5", true],
  ["/ is left-associative", "100 / 10 / 2 = 5", true],
  ["arithmetic binds tighter than comparison", "quantity + 1 > 10", true],
  ["unary minus binds tighter than *", "-2 * 3 = -6", true],

  // arithmetic
  ["integer division truncates like Int64", "7 / 2 = 3", true],
  ["a decimal operand makes division a double", "7 / 2.0 = 3.5", true],
  ["an integral property divides as an integer", "odd / 2 = 2", true],
  ["a decimal property makes arithmetic double", "price * 2 = 5", true],
  ["% is the remainder", "7 % 3 = 1", true],
  ["% keeps the dividend's sign", "-7 % 3 = -1", true],
  ["unary minus on a property", "-quantity = -10", true],
  ["unary plus on a property", "+quantity = 10", true],
  ["double negation", "- -quantity = 10", true],
  ["integer division by zero is unknown", "1 / 0 = 1", false],
  ["NOT of integer division by zero is unknown", "NOT 1 / 0 = 1", false],
  ["double division by zero is infinity, as in C#", "1.0 / 0 > 1000000", true],
  ["arithmetic with a missing property is unknown", "quantity + missing = 10", false],
  ["arithmetic on a string is unknown", "color * 2 = 1", false],
  ["unary minus on a string is unknown", "-color = 1", false],
  ["Int64 arithmetic wraps on overflow", "9223372036854775807 + 1 < 0", true],
  ["system numbers take part in arithmetic", "sys.TimeToLive / 1000 = 60", true],
  ["+ concatenates strings", "color + '-' + 'car' = 'red-car'", true],
  ["+ concatenates a string and a number", "'n' + quantity = 'n10'", true],
  ["- is not defined on strings", "color - 'x' = 'red'", false],

  // LIKE
  ["LIKE % matches any run", "color LIKE 'r%'", true],
  ["LIKE is case-sensitive", "color LIKE 'R%'", false],
  ["LIKE _ matches one character", "color LIKE '_ed'", true],
  ["LIKE _ does not match two", "color LIKE '__'", false],
  ["LIKE % alone matches everything", "color LIKE '%'", true],
  ["LIKE on a system property", "sys.Label LIKE '%bus%'", true],
  ["LIKE is anchored at both ends", "sys.Label LIKE 'bus'", false],
  ["NOT LIKE", "color NOT LIKE 'b%'", true],
  ["ESCAPE makes % and _ literal", "path LIKE '50\\%\\_off' ESCAPE '\\'", true],
  ["ESCAPE with another character", "path LIKE '50!%!_off' ESCAPE '!'", true],
  ["an escaped % no longer matches any run", "'50xyoff' LIKE '50!%off' ESCAPE '!'", false],
  ["regular-expression characters are literal", "'a.c' LIKE 'a.c' AND NOT 'abc' LIKE 'a.c'", true],
  ["LIKE on a missing property is unknown", "missing LIKE '%'", false],
  ["NOT LIKE on a missing property is unknown", "missing NOT LIKE 'x'", false],
  ["LIKE on a number is unknown", "quantity LIKE '1%'", false],
  ["LIKE takes a computed pattern", "color LIKE 'r' + '%'", true],
  ["LIKE takes a pattern from a property", "color LIKE pat", true],
  ["LIKE with a NULL pattern is unknown", "NOT color LIKE NULL", false],

  // IN
  ["IN finds a member", "color IN ('red', 'blue')", true],
  ["IN misses", "color IN ('blue')", false],
  ["NOT IN", "color NOT IN ('blue', 'green')", true],
  ["NOT IN on a member", "color NOT IN ('red')", false],
  ["IN compares numbers numerically", "quantity IN (1, 10.0)", true],
  ["IN does not convert strings to numbers", "quantity IN ('10')", false],
  ["IN on a missing property is unknown", "missing IN (1, 2)", false],
  ["NOT IN on a missing property is unknown", "missing NOT IN (1, 2)", false],
  ["NULL list items never match", "color NOT IN ('blue', NULL)", true],
  ["IN items may be expressions", "quantity IN (5 + 5)", true],
  ["IN items may be negative", "-quantity IN (-10)", true],
  ["IN with the documented example", "sys.To IN ('Store5','Store6','Store7') OR StoreId = 'Store8'", true],

  // case-insensitivity
  ["keywords are case-insensitive", "color = 'red' and not quantity = 1 or 1 = 0", true],
  [
    "lowercase is null / in / like / exists / true",
    "nothing is null and color in ('red') and color like 'r%' and exists(color) and flag = true",
    true,
  ],
  ["user names fall back to a case-insensitive match", "COLOR = 'red'", true],
  ["user. names fall back to a case-insensitive match", "user.mixed = 'Case'", true],
  ["system names are case-insensitive", "SYS.LABEL = 'bus-stop' AND sys.messageid = 'm-1'", true],
  ["sys.Subject is sys.Label", "sys.Subject = 'bus-stop'", true],
  [
    "the exact user key wins over a case-insensitive one",
    "Color = 'A' AND color = 'b'",
    true,
    message({ Color: "A", color: "b" }),
  ],
  ["a bare name is a user property, not a system one", "Label = 'bus-stop'", false],
  ["sys.MessageId", "sys.MessageId = 'm-1'", true],
  ["sys.SequenceNumber compares with a decimal", "sys.SequenceNumber > 41.5", true],
  ["sys.ScheduledEnqueueTime is an alias", "sys.ScheduledEnqueueTime IS NULL", true],

  // names
  ["[brackets] allow spaces", "[Property With Space] = 'yes'", true],
  ["[brackets] allow dashes", "[HR-EmployeeID] = 7", true],
  ["user.[brackets]", "user.[HR-EmployeeID] = 7", true],
  ["]] inside brackets is a ]", "[a]]b] = 1", true],
  ['"quoted" identifiers name properties', "\"Property With Space\" = 'yes'", true],
  ['"" inside a quoted identifier is a "', '"say ""hi""" = \'hi\'', true],
  ["sys.[bracketed] system names", "sys.[Label] = 'bus-stop'", true],
  ["a bracketed keyword is a property name", "[and] = 1", true, message({ and: 1 })],
  ["identifiers may contain unicode letters and digits", "größe_2 = 3", true, message({ größe_2: 3 })],

  // functions
  ["property() reads a user property", "property('color') = 'red'", true],
  ["p() reads a system property", "p('sys.Label') = 'bus-stop'", true],
  ["property() takes an expression", "property('user.' + 'col' + 'or') = 'red'", true],
  ["property() of an unknown system name is NULL", "property('sys.Nope') IS NULL", true],
  ["newid() is never NULL", "newid() IS NOT NULL", true],
  ["newid() is fresh each call", "newid() <> newid()", true],
  ["newid() is a GUID string", "NEWID() LIKE '________-____-____-____-____________'", true],

  // odd messages
  ["prototype keys are not properties", "constructor IS NULL AND NOT EXISTS(toString)", true],
  [
    "values outside SqlValue are unknown",
    "obj IS NULL",
    true,
    message({ obj: { nested: true } as unknown as SqlValue }),
  ],
];

describe("SQL filter evaluation", () => {
  for (const [behaviour, expression, expected, msg] of ROWS) {
    it(`${behaviour}: ${expression} → ${expected}`, () => {
      const filter = compileSqlFilter(expression);
      assert.equal(filter.expression, expression);
      assert.equal(filter.matches(msg ?? message()), expected);
    });
  }

  const oddMessages: readonly [string, FilterableMessage][] = [
    ["an empty message", { system: {}, user: {} }],
    [
      "a message of NULLs",
      {
        system: Object.fromEntries(Object.keys(message().system).map((k) => [k, null])),
        user: { color: null },
      },
    ],
    [
      "a message of mistyped values",
      {
        system: { Label: 5, EnqueuedTimeUtc: "yesterday", TimeToLive: "x" },
        user: { color: new Date(0), quantity: "ten", price: Number.NaN, flag: "yes" },
      },
    ],
    [
      "a message with non-SqlValue junk",
      {
        system: { Label: [] as unknown as SqlValue },
        user: { color: {} as unknown as SqlValue, quantity: Symbol("q") as unknown as SqlValue },
      },
    ],
  ];

  for (const [name, msg] of oddMessages) {
    it(`never throws while evaluating any table row against ${name}`, () => {
      for (const [, expression] of ROWS) {
        assert.equal(typeof compileSqlFilter(expression).matches(msg), "boolean", expression);
      }
    });
  }

  it("a compiled filter is reusable across many messages", () => {
    const filter = compileSqlFilter("quantity > 5 AND color LIKE 'r%'");
    const results = [1, 6, 10].map((quantity) => filter.matches(message({ quantity })));
    assert.deepEqual(results, [false, true, true]);
  });

  it("NaN compares as C# does: unequal to everything and unordered", () => {
    const msg = message({ price: Number.NaN });
    assert.equal(compileSqlFilter("price = price").matches(msg), false);
    assert.equal(compileSqlFilter("price <> price").matches(msg), true);
    assert.equal(compileSqlFilter("price < 1 OR price >= 1").matches(msg), false);
  });
});
