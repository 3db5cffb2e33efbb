import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { DlqFixture, drain, makeDeadLetters, peekDlq, QUEUE } from "./helpers.js";

interface PeekRow {
  sequenceNumber: string;
  messageId: string;
  subject?: string;
  sessionId?: string;
  deadLetterReason?: string;
  replayCount: number;
}

describe("dlq stats, peek", function () {
  let f: DlqFixture;
  beforeEach(async () => (f = await DlqFixture.start()));
  afterEach(async () => f.close());

  it("stats: groups by reason, subject and age with oldest and newest", async () => {
    await makeDeadLetters(
      f,
      QUEUE,
      [
        { body: 1, subject: "A" },
        { body: 2, subject: "B" },
      ],
      "Timeout",
    );
    await makeDeadLetters(f, QUEUE, [{ body: 3, subject: "A" }], "Invalid");
    const run = await f.dlq("stats", QUEUE, "--json");
    assert.equal(run.code, 0, run.stderr);
    const stats = JSON.parse(run.stdout) as {
      count: number;
      byReason: { key: string; count: number }[];
      bySubject: { key: string; count: number }[];
      byAge: { key: string; count: number }[];
      oldestEnqueuedTimeUtc: string;
      newestEnqueuedTimeUtc: string;
    };
    assert.equal(stats.count, 3);
    assert.deepEqual(stats.byReason, [
      { key: "Timeout", count: 2 },
      { key: "Invalid", count: 1 },
    ]);
    assert.deepEqual(stats.bySubject, [
      { key: "A", count: 2 },
      { key: "B", count: 1 },
    ]);
    assert.equal(stats.byAge[0]!.count, 3);
    assert.ok(stats.oldestEnqueuedTimeUtc <= stats.newestEnqueuedTimeUtc);
    const table = await f.dlq("stats", QUEUE);
    assert.match(table.stdout, /jobs: 3 dead letters selected of 3/);
    assert.match(table.stdout, /REASON\s+COUNT\nTimeout\s+2\nInvalid\s+1/);
  });

  it("peek: a table or JSON, and nothing is locked or removed", async () => {
    await makeDeadLetters(
      f,
      QUEUE,
      [{ body: "x", messageId: "p1", subject: "S", sessionId: "sess" }],
      "R",
      "D",
    );
    const table = await f.dlq("peek", QUEUE);
    assert.match(
      table.stdout,
      /SEQ\s+MESSAGE ID\s+SUBJECT\s+SESSION\s+REASON\s+DESCRIPTION\s+ENQUEUED\s+REPLAYS/,
    );
    assert.match(table.stdout, /1\s+p1\s+S\s+sess\s+R\s+D\s+\S+Z\s+0/);
    const json = JSON.parse((await f.dlq("peek", QUEUE, "--json")).stdout) as PeekRow[];
    assert.equal(json[0]!.messageId, "p1");
    assert.equal(json[0]!.sequenceNumber, "1");
    assert.equal(f.counts(QUEUE).deadLettered, 1);
    assert.equal(f.counts(QUEUE).locked, 0);
  });
});

describe("dlq selection", function () {
  let f: DlqFixture;
  before(async () => {
    f = await DlqFixture.start();
    // seq 1..6 in the queue's DLQ with varied properties.
    await makeDeadLetters(
      f,
      QUEUE,
      [
        {
          body: 1,
          messageId: "a",
          subject: "OrderPlaced",
          sessionId: "s1",
          applicationProperties: { region: "eu", n: 1 },
        },
      ],
      "Timeout",
      "took 31s",
    );
    await makeDeadLetters(
      f,
      QUEUE,
      [
        {
          body: 2,
          messageId: "b",
          subject: "OrderPlaced",
          sessionId: "s2",
          applicationProperties: { region: "us", n: 2 },
        },
      ],
      "Invalid",
      "missing field sku",
    );
    await makeDeadLetters(
      f,
      QUEUE,
      [
        {
          body: 3,
          messageId: "c",
          subject: "OrderShipped",
          sessionId: "s1",
          applicationProperties: { region: "eu", n: 3 },
        },
      ],
      "Invalid",
      "missing field carrier",
    );
    await makeDeadLetters(
      f,
      QUEUE,
      [{ body: 4, messageId: "d", subject: "OrderShipped", applicationProperties: { region: "eu", n: 4 } }],
      "Timeout",
      "took 45s",
    );
  });
  after(async () => f.close());

  const ids = async (...args: string[]): Promise<string[]> => {
    const run = await f.dlq("peek", QUEUE, "--json", ...args);
    assert.equal(run.code, 0, run.stderr);
    return (JSON.parse(run.stdout) as PeekRow[]).map((r) => r.messageId);
  };

  it("--reason (repeatable)", async () => {
    assert.deepEqual(await ids("--reason", "Invalid"), ["b", "c"]);
    assert.deepEqual(await ids("--reason", "Invalid", "--reason", "Timeout"), ["a", "b", "c", "d"]);
  });
  it("--description as a regular expression", async () =>
    assert.deepEqual(await ids("--description", "^took \\d+s$"), ["a", "d"]));
  it("--subject", async () => assert.deepEqual(await ids("--subject", "OrderShipped"), ["c", "d"]));
  it("--session-id", async () => assert.deepEqual(await ids("--session-id", "s1"), ["a", "c"]));
  it("--sequence ranges", async () => {
    assert.deepEqual(await ids("--sequence", "2-3"), ["b", "c"]);
    assert.deepEqual(await ids("--sequence", "3-"), ["c", "d"]);
    assert.deepEqual(await ids("--sequence=-1"), ["a"]);
    assert.deepEqual(await ids("--sequence", "4"), ["d"]);
  });
  it("--since / --until on the enqueued time", async () => {
    const rows = JSON.parse((await f.dlq("peek", QUEUE, "--json")).stdout) as { enqueuedTimeUtc: string }[];
    const third = rows[2]!.enqueuedTimeUtc;
    // Each message was dead-lettered by its own send/receive round trip, so the times differ.
    assert.deepEqual(await ids("--since", third), ["c", "d"]);
    assert.deepEqual(await ids("--until", third), ["a", "b"]);
    assert.deepEqual(await ids("--since", "1h"), ["a", "b", "c", "d"]);
    assert.deepEqual(await ids("--until", "1h"), []);
  });
  it("--message-ids file", async () => {
    await writeFile(f.path("ids.txt"), "# wanted\nd\n\nb\n");
    assert.deepEqual(await ids("--message-ids", "ids.txt"), ["b", "d"]);
  });
  it("--where with the emulator's SQL filter language", async () => {
    assert.deepEqual(await ids("--where", "region = 'eu' AND n >= 3"), ["c", "d"]);
    assert.deepEqual(await ids("--where", "sys.Label LIKE 'Order%ed' AND DeadLetterReason = 'Invalid'"), [
      "b",
      "c",
    ]);
    assert.deepEqual(await ids("--where", "sys.SessionId IS NULL"), ["d"]);
  });
  it("--limit keeps the first N in sequence order, after filtering", async () => {
    assert.deepEqual(await ids("--limit", "2"), ["a", "b"]);
    assert.deepEqual(await ids("--reason", "Timeout", "--limit", "1"), ["a"]);
  });
  it("criteria combine with AND", async () => {
    assert.deepEqual(await ids("--reason", "Invalid", "--session-id", "s1"), ["c"]);
  });
});

describe("dlq export and send-file", function () {
  let f: DlqFixture;
  beforeEach(async () => (f = await DlqFixture.start()));
  afterEach(async () => f.close());

  const binary = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x80, 0x7f]);
  const original = {
    messageId: "e1",
    contentType: "application/x-custom",
    subject: "Blob",
    correlationId: "corr",
    sessionId: "sess-1",
    replyTo: "r",
    timeToLive: 120_000,
    applicationProperties: {
      a: "x",
      n: 42,
      f: 1.25,
      ok: true,
      when: new Date("2024-01-02T03:04:05.006Z"),
      nothing: null,
    },
  };

  it("export → send-file keeps body bytes and properties identical (binary, JSON and text)", async () => {
    const bodies = [
      binary,
      Buffer.from('{"b":[1,2],"s":"é"}'),
      Buffer.from("plain text ✓"),
      Buffer.from(" 1.0 "),
    ];
    await makeDeadLetters(
      f,
      QUEUE,
      bodies.map((body, i) => ({ ...original, body, messageId: `e${i}` })),
    );
    const exported = await f.dlq("export", QUEUE, "--out", "dl.jsonl");
    assert.equal(exported.code, 0, exported.stderr);
    const records = (await readFile(f.path("dl.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => r.bodyEncoding),
      ["base64", "json", "utf8", "utf8"],
    );
    assert.deepEqual(records[1]!.body, { b: [1, 2], s: "é" }, "JSON bodies are editable values");
    assert.equal(records[0]!.deadLetterReason, "HandlerFailed");
    assert.equal(f.counts(QUEUE).deadLettered, 4, "export removes nothing");

    const sent = await f.dlq("send-file", "dl.jsonl", "--to", "shop/audit", "--yes", "--keep-message-ids");
    assert.equal(sent.code, 0, sent.stderr);
    const received = await drain(f, "shop/audit", false, 4);
    received.sort((a, b) => String(a.messageId).localeCompare(String(b.messageId)));
    received.forEach((m, i) => {
      assert.deepEqual(m.body, bodies[i], `body ${i}`);
      assert.equal(m.messageId, `e${i}`);
      assert.equal(m.contentType, original.contentType);
      assert.equal(m.subject, original.subject);
      assert.equal(m.correlationId, original.correlationId);
      assert.equal(m.sessionId, original.sessionId);
      assert.equal(m.replyTo, original.replyTo);
      assert.equal(m.timeToLive, original.timeToLive);
      assert.deepEqual(m.applicationProperties, {
        ...original.applicationProperties,
        "sbw-replay-to": "audit",
      });
    });
    assert.equal(f.counts("shop/billing").active, 0);
  });

  it("send-file derives fresh MessageIds by default, so a resend inside the window is not dropped", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "x", messageId: "w1" }]);
    assert.equal((await f.dlq("export", QUEUE, "--out", "w.jsonl")).code, 0);
    const run = await f.dlq("send-file", "w.jsonl", "--to", QUEUE, "--yes");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /sent 1 of 1/);
    const [m] = await drain(f, QUEUE, false, 1);
    assert.equal(m!.messageId, "w1~jobs~dlq1");
  });

  it("send-file applies the selection to the file and honours --dry-run", async () => {
    await makeDeadLetters(f, QUEUE, [
      { body: "x", messageId: "s1", subject: "Keep" },
      { body: "y", messageId: "s2", subject: "Drop" },
    ]);
    await f.dlq("export", QUEUE, "--out", "s.jsonl");
    const dry = await f.dlq("send-file", "s.jsonl", "--to", QUEUE, "--subject", "Keep", "--dry-run");
    assert.equal(dry.code, 0);
    assert.match(dry.stdout, /1 messages/);
    assert.equal(f.counts(QUEUE).active, 0);
    assert.equal((await f.dlq("send-file", "s.jsonl", "--to", QUEUE, "--subject", "Keep", "--yes")).code, 0);
    const got = await drain(f, QUEUE, false, 1);
    assert.deepEqual(
      got.map((m) => m.subject),
      ["Keep"],
    );
  });

  it("send-file stops after --stop-after-failures in a row and says so; the rest is not sent", async () => {
    // Line 1 fits; lines 2-6 are over the queue's 1 MiB limit, so each of their sends fails.
    const big = "x".repeat(1_100_000);
    const lines = [
      { bodyType: "value", body: "fits", messageId: "f0" },
      ...Array.from({ length: 5 }, (_, i) => ({ bodyType: "value", body: big, messageId: `f${i + 1}` })),
    ];
    await writeFile(f.path("big.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const run = await f.dlq("send-file", "big.jsonl", "--to", QUEUE, "--yes", "--stop-after-failures", "2");
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /sent\s+1\b/);
    assert.match(run.stdout, /failed\s+2\b/);
    assert.match(run.stdout, /interrupted\s+3\b/);
    assert.match(
      run.stderr.trim().split("\n").at(-1)!,
      /^stopped after 2 failures in a row \(last: .+\); the rest was not sent$/,
    );
    assert.equal(f.counts(QUEUE).active, 1);

    // 0: every line is tried.
    const all = await f.dlq("send-file", "big.jsonl", "--to", QUEUE, "--yes", "--stop-after-failures", "0");
    assert.match(all.stdout, /failed\s+5\b/);
    assert.doesNotMatch(all.stderr, /stopped after/);
  });

  it("export refuses to overwrite a file without --force", async () => {
    await writeFile(f.path("exists.jsonl"), "keep me");
    const run = await f.dlq("export", QUEUE, "--out", "exists.jsonl");
    assert.equal(run.code, 2);
    assert.equal(await readFile(f.path("exists.jsonl"), "utf8"), "keep me");
  });

  it("send-file rejects a malformed line before sending anything (exit 2, names the line)", async () => {
    await writeFile(
      f.path("bad.jsonl"),
      `${JSON.stringify({ bodyType: "data", bodyEncoding: "utf8", body: "ok" })}\n{"bodyType":"data","body":1}\n`,
    );
    const run = await f.dlq("send-file", "bad.jsonl", "--to", QUEUE, "--yes");
    assert.equal(run.code, 2);
    assert.match(run.stderr, /bad\.jsonl:2: a data body needs bodyEncoding/);
    assert.equal((await peekDlq(f, QUEUE)).length + f.counts(QUEUE).active, 0);
  });
});
