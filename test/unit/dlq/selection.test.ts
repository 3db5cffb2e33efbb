import assert from "node:assert/strict";
import { DlqError } from "../../../src/cli/dlq/errors.js";
import {
  isEmptySelection,
  matchesSelection,
  parseMessageIdList,
  parseSelection,
  parseSequenceRange,
  parseTime,
} from "../../../src/cli/dlq/selection.js";
import type { MessageView } from "../../../src/cli/dlq/view.js";

const now = new Date("2024-05-10T12:00:00.000Z");

function view(overrides: Partial<MessageView>): MessageView {
  return {
    sequenceNumber: 10n,
    messageId: "m",
    subject: "OrderPlaced",
    sessionId: undefined,
    correlationId: undefined,
    contentType: undefined,
    to: undefined,
    replyTo: undefined,
    replyToSessionId: undefined,
    partitionKey: undefined,
    enqueuedTimeUtc: new Date("2024-05-10T11:00:00.000Z"),
    deliveryCount: 0,
    timeToLive: undefined,
    deadLetterReason: "Timeout",
    deadLetterErrorDescription: "took 31s",
    deadLetterSource: undefined,
    applicationProperties: { region: "eu", DeadLetterReason: "Timeout" },
    replayCount: 0,
    ...overrides,
  };
}

describe("dlq selection parsing", () => {
  it("parses sequence ranges", () => {
    assert.deepEqual(parseSequenceRange("3-9"), { from: 3n, to: 9n });
    assert.deepEqual(parseSequenceRange("3-"), { from: 3n });
    assert.deepEqual(parseSequenceRange("-9"), { to: 9n });
    assert.deepEqual(parseSequenceRange("7"), { from: 7n, to: 7n });
    assert.deepEqual(parseSequenceRange("72057594037927936-72057594037927940"), {
      from: 72057594037927936n,
      to: 72057594037927940n,
    });
    for (const bad of ["", "-", "a-b", "9-3", "1-2-3", "1 2"])
      assert.throws(() => parseSequenceRange(bad), DlqError, bad);
  });

  it("parses times as ISO-8601 or ages", () => {
    assert.equal(parseTime("2h", now, "--since").toISOString(), "2024-05-10T10:00:00.000Z");
    assert.equal(parseTime("7d", now, "--since").toISOString(), "2024-05-03T12:00:00.000Z");
    assert.equal(parseTime("2024-05-01", now, "--since").toISOString(), "2024-05-01T00:00:00.000Z");
    assert.equal(
      parseTime("2024-05-01T10:00:00+02:00", now, "--since").toISOString(),
      "2024-05-01T08:00:00.000Z",
    );
    for (const bad of ["yesterday", "2h ago", "2024-13-45", "10"])
      assert.throws(() => parseTime(bad, now, "--since"), DlqError, bad);
  });

  it("reads message-id lists, ignoring blanks and comments", () => {
    assert.deepEqual([...parseMessageIdList("# ids\na\n\n  b  \r\n#c\n")], ["a", "b"]);
  });

  it("rejects an --until not after --since", () => {
    assert.throws(
      () => parseSelection({ since: "1h", until: "2h" }, { now }),
      /--until must be later than --since/,
    );
    assert.throws(
      () => parseSelection({ since: "1h", until: "1h" }, { now }),
      /--until must be later than --since/,
      "an empty window",
    );
  });

  it("tells an empty selection (every message) from one with criteria", () => {
    assert.equal(isEmptySelection(parseSelection({}, { now })), true);
    assert.equal(
      isEmptySelection(parseSelection({ reason: [] }, { now })),
      true,
      "an empty list selects nothing out",
    );
    assert.equal(isEmptySelection(parseSelection({ reason: ["Timeout"] }, { now })), false);
    assert.equal(isEmptySelection(parseSelection({}, { now, messageIds: new Set(["m"]) })), false);
  });
});

describe("dlq selection matching", () => {
  const cases: [string, Parameters<typeof parseSelection>[0], boolean][] = [
    ["no criteria", {}, true],
    ["reason", { reason: ["Timeout"] }, true],
    ["other reason", { reason: ["Invalid"] }, false],
    ["any of reasons", { reason: ["Invalid", "Timeout"] }, true],
    ["description regex", { description: "^took \\d+s$" }, true],
    ["description regex miss", { description: "missing" }, false],
    ["subject", { subject: ["OrderPlaced"] }, true],
    ["session id on a message without", { "session-id": ["s1"] }, false],
    ["since", { since: "2h" }, true],
    ["since, too old", { since: "30m" }, false],
    ["until", { until: "30m" }, true],
    ["until, too new", { until: "2h" }, false],
    ["sequence inside", { sequence: "5-10" }, true],
    ["sequence outside", { sequence: "11-" }, false],
    ["sequence above the range", { sequence: "-9" }, false],
    ["sequence at the range's end", { sequence: "5-10" }, true],
    ["sequence, just that one", { sequence: "10" }, true],
    ["where on a user property", { where: "region = 'eu'" }, true],
    ["where on a system property", { where: "sys.Label = 'OrderShipped'" }, false],
    ["where on the dead-letter reason", { where: "DeadLetterReason = 'Timeout'" }, true],
    ["AND of criteria, one failing", { reason: ["Timeout"], subject: ["Other"] }, false],
  ];
  for (const [name, options, expected] of cases) {
    it(`${expected ? "matches" : "rejects"}: ${name}`, () => {
      assert.equal(matchesSelection(parseSelection(options, { now }), view({})), expected);
    });
  }

  it("matches message ids from a list", () => {
    const selection = parseSelection({}, { now, messageIds: new Set(["m"]) });
    assert.equal(matchesSelection(selection, view({})), true);
    assert.equal(matchesSelection(selection, view({ messageId: "x" })), false);
  });
});
