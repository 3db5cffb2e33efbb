import assert from "node:assert/strict";

import type { CorrelationFilter, FilterableMessage } from "../../../src/emulator/sql/index.js";
import { correlationMatches } from "../../../src/emulator/sql/index.js";
import { message } from "./fixtures.js";

type Row = readonly [
  behaviour: string,
  filter: CorrelationFilter,
  expected: boolean,
  msg?: FilterableMessage,
];

const ROWS: readonly Row[] = [
  ["matches on CorrelationId", { correlationId: "corr-1" }, true],
  ["CorrelationId must be equal", { correlationId: "corr-2" }, false],
  ["string comparison is case-sensitive", { correlationId: "CORR-1" }, false],
  ["label matches the Label (subject) system property", { label: "bus-stop" }, true],
  [
    "every system field matches",
    {
      correlationId: "corr-1",
      messageId: "m-1",
      to: "Store5",
      replyTo: "replies",
      label: "bus-stop",
      sessionId: "s-1",
      replyToSessionId: "rs-1",
      contentType: "application/json",
    },
    true,
    message({}, { ReplyToSessionId: "rs-1" }),
  ],
  ["all conditions are ANDed", { correlationId: "corr-1", to: "Store6" }, false],
  ["a field the message lacks does not match", { replyToSessionId: "x" }, false],
  ["an empty string does not match an absent property", { replyToSessionId: "" }, false],
  ["contentType is case-sensitive", { contentType: "Application/JSON" }, false],
  ["undefined fields are not conditions", { correlationId: "corr-1", to: undefined }, true],
  ["matches a string user property", { properties: { color: "red" } }, true],
  ["matches a number user property", { properties: { quantity: 10 } }, true],
  ["matches a boolean user property", { properties: { flag: true } }, true],
  ["user property values must be equal", { properties: { color: "blue" } }, false],
  ["user property values must have the same type", { properties: { quantity: "10" } }, false],
  ["a missing user property does not match", { properties: { missing: "x" } }, false],
  ["user property keys are exact", { properties: { COLOR: "red" } }, false],
  [
    "system fields and user properties combine",
    { label: "bus-stop", replyTo: "replies", properties: { color: "red" } },
    true,
  ],
  [
    "a user property mismatch fails the combination",
    { label: "bus-stop", properties: { color: "red", quantity: 1 } },
    false,
  ],
  ["an empty filter matches nothing", {}, false],
  ["a filter of only undefined fields matches nothing", { correlationId: undefined }, false],
  ["an empty properties bag matches nothing", { properties: {} }, false],
  ["user properties are not system fields", { properties: { Label: "bus-stop" } }, false],
];

describe("correlation filters", () => {
  for (const [behaviour, filter, expected, msg] of ROWS) {
    it(`${behaviour}: ${JSON.stringify(filter)} → ${expected}`, () => {
      assert.equal(correlationMatches(filter, msg ?? message()), expected);
    });
  }
});
