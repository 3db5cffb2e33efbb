import assert from "node:assert/strict";
import { DlqFixture, lines, QUEUE } from "./helpers.js";

describe("dlq bad usage and connection problems", function () {
  let f: DlqFixture;
  before(async () => (f = await DlqFixture.start()));
  after(async () => f.close());

  const cases: [string, string[], RegExp, Record<string, string>?][] = [
    ["no subcommand", [], /usage: sbworker dlq/],
    ["an unknown subcommand", ["frobnicate"], /unknown subcommand "frobnicate"/],
    ["an unknown option", ["peek", QUEUE, "--colour"], /Unknown option '--colour'/],
    ["a missing entity", ["peek"], /missing <entity>/],
    ["an extra argument", ["peek", QUEUE, "extra"], /unexpected argument "extra"/],
    ["a malformed entity", ["peek", "a/b/c"], /must be <queue> or <topic>\/<subscription>/],
    ["a bad --sequence", ["peek", QUEUE, "--sequence", "9-3"], /--sequence: the range 9-3 is empty/],
    ["a bad --since", ["peek", QUEUE, "--since", "yesterday"], /--since: expected an ISO-8601 time/],
    [
      "a bad --description regex",
      ["peek", QUEUE, "--description", "("],
      /--description: invalid regular expression/,
    ],
    ["a bad --where", ["peek", QUEUE, "--where", "a = "], /--where: .*position/],
    ["a bad --limit", ["peek", QUEUE, "--limit", "0"], /--limit: expected a positive integer/],
    [
      "a missing --message-ids file",
      ["peek", QUEUE, "--message-ids", "nope.txt"],
      /--message-ids: cannot read nope.txt/,
    ],
    [
      "a bad --concurrency",
      ["replay", QUEUE, "--concurrency", "x"],
      /--concurrency: expected a positive integer/,
    ],
    ["a bad --rate", ["replay", QUEUE, "--rate", "-1"], /--rate/],
    [
      "a bad --stop-after-failures",
      ["purge", QUEUE, "--stop-after-failures", "some"],
      /--stop-after-failures: expected a non-negative integer, got "some"/,
    ],
    ["--to on purge", ["purge", QUEUE, "--to", "x"], /Unknown option '--to'/],
    [
      "send-file without --to",
      ["send-file", "x.jsonl"],
      /--to <queue\|topic\|topic\/subscription> is required/,
    ],
    ["export without --out", ["export", QUEUE], /--out FILE is required/],
    ["a missing --resume journal", ["replay", QUEUE, "--resume", "none.jsonl"], /--resume: cannot read/],
    ["an entity that does not exist", ["peek", "nothere"], /peek nothere: not found/],
    [
      "no connection configured",
      ["peek", QUEUE],
      /no connection: set SERVICEBUS_CONNECTION_STRING/,
      { SERVICEBUS_CONNECTION_STRING: "" },
    ],
    [
      "a bad SBW_CLOSE_TIMEOUT_MS",
      ["peek", QUEUE],
      /SBW_CLOSE_TIMEOUT_MS: expected a positive integer \(ms\), got "5s"/,
      { SBW_CLOSE_TIMEOUT_MS: "5s" },
    ],
    [
      "a malformed connection string",
      ["peek", QUEUE],
      /connection string: expected Endpoint=sb:/,
      { SERVICEBUS_CONNECTION_STRING: "nonsense" },
    ],
    [
      "an unreachable namespace",
      ["peek", QUEUE],
      /peek jobs: /,
      {
        SERVICEBUS_CONNECTION_STRING:
          "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
        SBW_SERVICEBUS_MAX_RETRIES: "0",
        SBW_SERVICEBUS_TIMEOUT_MS: "2000",
      },
    ],
  ];

  for (const [what, args, message, env] of cases) {
    it(`exits 2 with one line for ${what}`, async () => {
      const run = await f.cli(["dlq", ...args], env ? { env } : {});
      assert.equal(run.code, 2, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
      const text = args.length === 0 ? run.stdout : run.stderr;
      if (args.length > 0) assert.equal(lines(run.stderr).length, 1, run.stderr);
      assert.match(text, message);
    });
  }
});
