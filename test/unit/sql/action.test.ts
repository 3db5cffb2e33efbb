import assert from "node:assert/strict";

import type { FilterableMessage, SqlValue } from "../../../src/emulator/sql/index.js";
import { compileSqlAction } from "../../../src/emulator/sql/index.js";

type Bag = Record<string, SqlValue | undefined>;
type Row = readonly [
  behaviour: string,
  action: string,
  before: { user?: Bag; system?: Bag },
  after: { user?: Bag; system?: Bag },
];

const SCHEDULED = new Date("2030-01-01T00:00:00Z");

const ROWS: readonly Row[] = [
  ["SET creates a user property", "SET importance = 'critical'", {}, { user: { importance: "critical" } }],
  ["SET with user. scope", "SET user.importance = 'high'", {}, { user: { importance: "high" } }],
  ["SET into a bracketed name", "SET [Has Space] = 1", {}, { user: { "Has Space": 1 } }],
  [
    "SET replaces an existing value",
    "SET color = 'blue'",
    { user: { color: "red" } },
    { user: { color: "blue" } },
  ],
  [
    "SET overwrites a key that differs only in case",
    "SET color = 'blue'",
    { user: { Color: "red" } },
    { user: { Color: "blue" } },
  ],
  [
    "SET divides integers like Int64",
    "SET quantity = quantity / 2",
    { user: { quantity: 5 } },
    { user: { quantity: 2 } },
  ],
  [
    "SET with a decimal divisor",
    "SET half = quantity / 2.0",
    { user: { quantity: 5 } },
    { user: { quantity: 5, half: 2.5 } },
  ],
  ["SET a boolean", "SET flag = TRUE", {}, { user: { flag: true } }],
  ["SET a negative decimal", "SET n = -1.5", {}, { user: { n: -1.5 } }],
  ["SET NULL", "SET n = NULL", { user: { n: 1 } }, { user: { n: null } }],
  ["SET from a missing property stores NULL", "SET copy = missing", {}, { user: { copy: null } }],
  [
    "SET concatenates strings",
    "SET tag = color + '-' + 'x'",
    { user: { color: "red" } },
    { user: { color: "red", tag: "red-x" } },
  ],
  [
    "SET reads a system property",
    "SET copy = sys.Label",
    { system: { Label: "L" } },
    { user: { copy: "L" }, system: { Label: "L" } },
  ],
  [
    "SET reads through property()",
    "SET copy = property('sys.To')",
    { system: { To: "t" } },
    { user: { copy: "t" }, system: { To: "t" } },
  ],
  [
    "SET stores a date",
    "SET at = sys.EnqueuedTimeUtc",
    { system: { EnqueuedTimeUtc: SCHEDULED } },
    { user: { at: SCHEDULED }, system: { EnqueuedTimeUtc: SCHEDULED } },
  ],
  [
    "REMOVE deletes a user property",
    "REMOVE priority",
    { user: { priority: "high", keep: 1 } },
    { user: { keep: 1 } },
  ],
  [
    "REMOVE matches a key case-insensitively",
    "REMOVE PRIORITY",
    { user: { priority: "high" } },
    { user: {} },
  ],
  ["REMOVE of a missing property is a no-op", "REMOVE missing", { user: { a: 1 } }, { user: { a: 1 } }],
  [
    "the documented multi-statement example, with a trailing ;",
    "SET quantity = quantity / 2; REMOVE priority;SET sys.CorrelationId = 'low';",
    { user: { quantity: 10, priority: "high" } },
    { user: { quantity: 5 }, system: { CorrelationId: "low" } },
  ],
  [
    "statements without semicolons",
    "SET a = 1 SET b = 2 REMOVE c",
    { user: { c: 3 } },
    { user: { a: 1, b: 2 } },
  ],
  [
    "later statements see earlier effects",
    "SET a = 1; SET b = a + 1; SET a = b * 10",
    {},
    { user: { a: 20, b: 2 } },
  ],
  ["keywords are case-insensitive", "set a = 1; remove b", { user: { b: 1 } }, { user: { a: 1 } }],
  [
    "SET sys.Label",
    "SET sys.Label = sys.Label + '-copy'",
    { system: { Label: "L" } },
    { system: { Label: "L-copy" } },
  ],
  ["sys.Subject sets Label", "SET sys.Subject = 's'", {}, { system: { Label: "s" } }],
  [
    "SET every settable string system property",
    "SET sys.To = 'to'; SET sys.ReplyTo = 'rt'; SET sys.ReplyToSessionId = 'rts'; SET sys.ContentType = 'ct'; SET sys.MessageId = 'mid'; SET sys.SessionId = 'sid'; SET sys.PartitionKey = 'pk'",
    {},
    {
      system: {
        To: "to",
        ReplyTo: "rt",
        ReplyToSessionId: "rts",
        ContentType: "ct",
        MessageId: "mid",
        SessionId: "sid",
        PartitionKey: "pk",
      },
    },
  ],
  [
    "a number converts to a string system property",
    "SET sys.MessageId = 40 + 2",
    {},
    { system: { MessageId: "42" } },
  ],
  [
    "SET sys.TimeToLive takes milliseconds",
    "SET sys.TimeToLive = 1000 * 60",
    {},
    { system: { TimeToLive: 60_000 } },
  ],
  [
    "a string that is not a duration leaves TimeToLive alone",
    "SET sys.TimeToLive = 'soon'",
    { system: { TimeToLive: 5 } },
    { system: { TimeToLive: 5 } },
  ],
  [
    "a boolean does not convert to a string system property",
    "SET sys.Label = TRUE",
    { system: { Label: "L" } },
    { system: { Label: "L" } },
  ],
  [
    "an ISO string converts to ScheduledEnqueueTimeUtc",
    "SET sys.ScheduledEnqueueTimeUtc = '2030-01-01T00:00:00Z'",
    {},
    { system: { ScheduledEnqueueTimeUtc: SCHEDULED } },
  ],
  ["SET sys.X = NULL clears it", "SET sys.Label = NULL", { system: { Label: "L" } }, { system: {} }],
  [
    "REMOVE sys.ReplyTo clears it",
    "REMOVE sys.ReplyTo",
    { system: { ReplyTo: "r", To: "t" } },
    { system: { To: "t" } },
  ],
  [
    "integer results leave the evaluator as plain numbers",
    "SET big = 9007199254740993 - 2",
    {},
    { user: { big: 9007199254740991 } },
  ],
];

function build(state: { user?: Bag; system?: Bag }): FilterableMessage {
  return { user: { ...state.user }, system: { ...state.system } };
}

describe("SQL rule actions", () => {
  for (const [behaviour, action, before, after] of ROWS) {
    it(`${behaviour}: ${action}`, () => {
      const compiled = compileSqlAction(action);
      assert.equal(compiled.expression, action);
      const msg = build(before);
      compiled.apply(msg);
      assert.deepEqual(msg, build(after));
    });
  }

  it("newid() sets a fresh GUID each time the action runs", () => {
    const action = compileSqlAction("SET id = newid()");
    const first = build({});
    const second = build({});
    action.apply(first);
    action.apply(second);
    assert.match(String(first.user.id), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(first.user.id, second.user.id);
  });

  it("a compiled action is reusable and does not leak state between messages", () => {
    const action = compileSqlAction("SET n = n + 1");
    const a = build({ user: { n: 1 } });
    const b = build({ user: { n: 10 } });
    action.apply(a);
    action.apply(b);
    action.apply(a);
    assert.deepEqual([a.user.n, b.user.n], [3, 11]);
  });

  it("never throws on a message of junk values", () => {
    const action = compileSqlAction(
      "SET a = b / 0; SET c = d + e; SET sys.Label = x; SET sys.TimeToLive = y; SET sys.ScheduledEnqueueTimeUtc = z; REMOVE w",
    );
    const msg: FilterableMessage = {
      system: { Label: {} as unknown as SqlValue },
      user: { b: 1, d: new Date(0), e: "s", x: true, y: Number.NaN, z: "not a date", w: null },
    };
    assert.doesNotThrow(() => action.apply(msg));
    assert.equal(msg.user.a, null);
    assert.equal(msg.user.c, null);
    assert.equal(Object.hasOwn(msg.user, "w"), false);
  });
});
