import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { DlqFixture, deadLetterActive, drain, lines, makeDeadLetters, peekDlq, QUEUE } from "./helpers.js";

describe("dlq replay", function () {
  let f: DlqFixture;
  beforeEach(async () => (f = await DlqFixture.start()));
  afterEach(async () => f.close());

  it("sends a subscription's dead letters back to that subscription only", async () => {
    await makeDeadLetters(f, "shop/billing", [
      { body: { n: 1 }, subject: "OrderPlaced", messageId: "o1" },
      { body: { n: 2 }, subject: "OrderPlaced", messageId: "o2" },
    ]);
    const run = await f.dlq("replay", "shop/billing", "--yes");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /replayed\s+2/);
    assert.equal(f.counts("shop/billing").deadLettered, 0);
    assert.equal(f.counts("shop/billing").active, 2);
    assert.equal(f.counts("shop/shipping").active, 0, "sibling got a replay");
    assert.equal(f.counts("shop/audit").active, 0, "sibling got a replay");
  });

  it("keeps body bytes, properties and trace context, drops DeadLetter*, adds sbw-replay-*", async () => {
    const body = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x7b]);
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await makeDeadLetters(
      f,
      QUEUE,
      [
        {
          body,
          messageId: "orig-1",
          contentType: "application/octet-stream",
          subject: "Blob",
          correlationId: "corr-9",
          timeToLive: 3_600_000,
          replyTo: "replies",
          applicationProperties: {
            traceparent,
            tracestate: "k=v",
            "Diagnostic-Id": traceparent,
            region: "eu",
            amount: 12.5,
            at: new Date("2024-05-01T10:00:00.000Z"),
            "sbw-attempt": 5,
          },
        },
      ],
      "MaxAttemptsExceeded",
      "handler threw",
    );
    const run = await f.dlq("replay", QUEUE, "--yes");
    assert.equal(run.code, 0, run.stderr);
    const [m] = await drain(f, QUEUE, false, 1);
    assert.ok(m);
    assert.deepEqual(m.body, body);
    assert.equal(m.messageId, "orig-1~jobs~dlq1");
    assert.equal(m.contentType, "application/octet-stream");
    assert.equal(m.subject, "Blob");
    assert.equal(m.correlationId, "corr-9");
    assert.equal(m.replyTo, "replies");
    assert.equal(m.timeToLive, 3_600_000);
    const props = m.applicationProperties!;
    assert.equal(props.traceparent, traceparent);
    assert.equal(props.tracestate, "k=v");
    assert.equal(props["Diagnostic-Id"], traceparent);
    assert.equal(props.region, "eu");
    assert.equal(props.amount, 12.5);
    assert.deepEqual(props.at, new Date("2024-05-01T10:00:00.000Z"), "a Date property stays a timestamp");
    assert.equal(props.DeadLetterReason, undefined);
    assert.equal(props.DeadLetterErrorDescription, undefined);
    assert.equal(props["sbw-attempt"], undefined, "a replay starts a fresh attempt budget");
    assert.equal(props["sbw-replay-count"], 1);
    assert.equal(props["sbw-original-message-id"], "orig-1");
    assert.equal(props["sbw-original-dead-letter-reason"], "MaxAttemptsExceeded");
    assert.equal(props["sbw-replayed-from"], QUEUE);
  });

  it("keeps the session id for session-enabled targets", async () => {
    await makeDeadLetters(f, QUEUE, [
      { body: "x", messageId: "s1", sessionId: "order-7", partitionKey: "order-7" },
    ]);
    assert.equal((await f.dlq("replay", QUEUE, "--yes")).code, 0);
    const [m] = await drain(f, QUEUE, false, 1);
    assert.equal(m!.sessionId, "order-7");
    assert.equal(m!.partitionKey, "order-7");
  });

  it("is not dropped by duplicate detection inside the original's window", async () => {
    // The queue and the topic both have 10-minute duplicate detection; the original id is fresh.
    await makeDeadLetters(f, QUEUE, [{ body: "again", messageId: "dup-1" }]);
    const run = await f.dlq("replay", QUEUE, "--yes");
    assert.equal(run.code, 0, run.stderr);
    const [m] = await drain(f, QUEUE, false, 1);
    assert.equal(m!.applicationProperties!["sbw-original-message-id"], "dup-1");
  });

  it("skips and reports messages replayed --max-replays times (loop guard)", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "poison", messageId: "p1" }]);
    for (let round = 1; round <= 2; round += 1) {
      const run = await f.dlq("replay", QUEUE, "--yes", "--max-replays", "2");
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /replayed\s+1/);
      // The handler fails again: back to the DLQ.
      const [m] = await deadLetterActive(f, QUEUE, 1);
      assert.equal(m!.applicationProperties!["sbw-replay-count"], round);
      assert.equal(m!.applicationProperties!["sbw-original-message-id"], "p1");
    }
    const third = await f.dlq("replay", QUEUE, "--yes", "--max-replays", "2");
    assert.equal(third.code, 0);
    assert.match(third.stdout, /skipped\s+1/);
    assert.match(third.stdout, /replayed 2 times already \(--max-replays 2\)/);
    assert.equal(f.counts(QUEUE).deadLettered, 1, "a skipped message stays in the DLQ");
  });

  it("--to overrides the target (a topic fans out by its normal rules)", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "to-topic", messageId: "t1", subject: "OrderPlaced" }]);
    const run = await f.dlq("replay", QUEUE, "--yes", "--to", "shop");
    assert.equal(run.code, 0, run.stderr);
    for (const sub of ["billing", "shipping", "audit"]) assert.equal(f.counts(`shop/${sub}`).active, 1, sub);
    assert.equal(f.counts(QUEUE).deadLettered, 0);
  });

  it("--to topic/subscription addresses one subscription", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "to-sub", messageId: "t2" }]);
    assert.equal((await f.dlq("replay", QUEUE, "--yes", "--to", "shop/audit")).code, 0);
    assert.equal(f.counts("shop/audit").active, 1);
    assert.equal(f.counts("shop/billing").active + f.counts("shop/shipping").active, 0);
  });

  it("--dry-run shows the plan and changes nothing", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "a", messageId: "d1" }]);
    const run = await f.dlq("replay", QUEUE, "--dry-run");
    assert.equal(run.code, 0);
    assert.match(run.stdout, /d1~jobs~dlq1/);
    assert.match(run.stdout, /dry run: nothing was changed/);
    assert.equal(f.counts(QUEUE).deadLettered, 1);
    assert.equal(f.counts(QUEUE).active, 0);
  });

  it("refuses without a terminal and without --yes (exit 2, one line)", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "a", messageId: "c1" }]);
    const run = await f.dlq("replay", QUEUE);
    assert.equal(run.code, 2);
    assert.equal(lines(run.stderr).length, 1);
    assert.match(run.stderr, /pass --yes/);
    assert.equal(f.counts(QUEUE).deadLettered, 1);
  });

  it("asks on a terminal and proceeds on y, stops on anything else", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "a", messageId: "c2" }]);
    const tty = (answer: string) => Object.assign(Readable.from([answer]), { isTTY: true });
    const no = await f.cli(["dlq", "replay", QUEUE], { tty: true, stdin: tty("n\n") });
    assert.equal(no.code, 2);
    assert.match(no.stderr, /not confirmed/);
    assert.equal(f.counts(QUEUE).deadLettered, 1);
    const yes = await f.cli(["dlq", "replay", QUEUE], { tty: true, stdin: tty("y\n") });
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal(f.counts(QUEUE).deadLettered, 0);
    assert.match(yes.stderr, /\r\[#+\] 1\/1/, "a progress bar on a terminal");
  });

  it("abandons a dead letter whose send fails, so it stays (exit 1, listed)", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "a", messageId: "f1" }]);
    const run = await f.dlq("replay", QUEUE, "--yes", "--to", "no-such-queue");
    assert.equal(run.code, 1);
    assert.match(run.stdout, /failed\s+1/);
    assert.match(run.stdout, /f1\s+send failed/);
    assert.equal(f.counts(QUEUE).deadLettered, 1);
    assert.equal(f.counts(QUEUE).locked, 0, "abandoned, not left locked");
  });

  it("stops starting messages after --stop-after-failures in a row; the rest stays, --resume goes on", async () => {
    await makeDeadLetters(
      f,
      QUEUE,
      Array.from({ length: 12 }, (_, i) => ({ body: `s${i}`, messageId: `s${i}` })),
    );
    const journal = f.path("stopped.jsonl");
    const run = await f.dlq(
      "replay",
      QUEUE,
      "--yes",
      "--to",
      "no-such-queue",
      "--stop-after-failures",
      "3",
      "--journal",
      journal,
    );
    assert.equal(run.code, 1);
    assert.match(run.stdout, /failed\s+3\b/);
    assert.match(run.stdout, /interrupted\s+9\b/);
    const lines = run.stderr.trim().split("\n");
    assert.match(
      lines.at(-1)!,
      /^stopped after 3 failures in a row \(last: send failed: .*\); the rest stays in the dead-letter queue; continue with --resume .*stopped\.jsonl$/,
    );
    assert.equal(f.counts(QUEUE).deadLettered, 12, "nothing lost");
    assert.equal(f.counts(QUEUE).locked, 0, "the untouched ones are abandoned, not left locked");

    // The default (10) on the same failing target: ten tries, not twelve.
    const again = await f.dlq("replay", QUEUE, "--yes", "--to", "no-such-queue");
    assert.match(again.stdout, /failed\s+10\b/);
    assert.match(again.stdout, /interrupted\s+2\b/);
    // 0: never stop.
    const all = await f.dlq("replay", QUEUE, "--yes", "--to", "no-such-queue", "--stop-after-failures", "0");
    assert.match(all.stdout, /failed\s+12\b/);
    assert.doesNotMatch(all.stderr, /stopped after/);

    // Once the target works, --resume replays every one of them.
    const resumed = await f.dlq("replay", QUEUE, "--yes", "--resume", journal);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /replayed\s+12\b/);
    assert.equal(f.counts(QUEUE).deadLettered, 0);
  });

  it("replays only the selection, with concurrency and a rate limit", async () => {
    await makeDeadLetters(
      f,
      QUEUE,
      Array.from({ length: 12 }, (_, i) => ({
        body: `m${i}`,
        messageId: `c${i}`,
        subject: i % 2 ? "Odd" : "Even",
      })),
    );
    const run = await f.dlq(
      "replay",
      QUEUE,
      "--yes",
      "--subject",
      "Odd",
      "--concurrency",
      "4",
      "--rate",
      "1000",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /replayed\s+6/);
    assert.match(run.stderr, /replay: 6\/6 done, 0 failed/);
    const replayed = await drain(f, QUEUE, false, 6);
    assert.deepEqual(
      replayed.map((m) => m.subject),
      Array(6).fill("Odd"),
    );
    const left = await peekDlq(f, QUEUE);
    assert.deepEqual(
      left.map((m) => m.subject),
      Array(6).fill("Even"),
    );
    assert.equal(f.counts(QUEUE).locked, 0, "unselected messages held during the run were released");
  });

  it("purges the selection only", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "a", messageId: "k1" }], "Bad");
    await makeDeadLetters(f, QUEUE, [{ body: "b", messageId: "k2" }], "Good");
    const run = await f.dlq("purge", QUEUE, "--yes", "--reason", "Bad");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /purged\s+1/);
    const left = await peekDlq(f, QUEUE);
    assert.deepEqual(
      left.map((m) => m.messageId),
      ["k2"],
    );
    assert.equal(f.counts(QUEUE).active, 0);
  });

  it("Ctrl-C finishes in-flight messages, leaves the rest, journals, and --resume continues", async () => {
    await makeDeadLetters(
      f,
      QUEUE,
      Array.from({ length: 10 }, (_, i) => ({ body: `m${i}`, messageId: `i${i}` })),
    );
    const controller = new AbortController();
    const journal = f.path("replay.jsonl");
    // Abort once three messages are done: the journal's third `completed` line is the cue. Paced
    // at 10 a second, so the abort lands mid-run even on a loaded machine (unpaced, the replay
    // could finish all ten before the journal poll saw the third).
    const run = f.cli(["dlq", "replay", QUEUE, "--yes", "--rate", "10", "--journal", journal], {
      signal: controller.signal,
    });
    const watch = setInterval(() => {
      void readFile(journal, "utf8").then(
        (text) => {
          if ((text.match(/"completed"/g) ?? []).length >= 3) controller.abort();
        },
        () => undefined, // not created yet
      );
    }, 5);
    const first = await run;
    clearInterval(watch);
    assert.equal(first.code, 1);
    assert.match(first.stderr, /interrupted.*--resume/);
    const interrupted = Number(/interrupted\s+(\d+)/.exec(first.stdout)?.[1] ?? 0);
    const replayedFirst = Number(/replayed\s+(\d+)/.exec(first.stdout)?.[1] ?? 0);
    assert.ok(replayedFirst >= 3 && interrupted >= 1 && replayedFirst + interrupted === 10, first.stdout);
    assert.equal(f.counts(QUEUE).locked, 0);
    assert.equal(f.counts(QUEUE).deadLettered, interrupted);

    const second = await f.dlq("replay", QUEUE, "--yes", "--resume", journal);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`replayed\\s+${interrupted}`));
    assert.equal(f.counts(QUEUE).deadLettered, 0);
    const all = await drain(f, QUEUE, false, 10);
    assert.equal(new Set(all.map((m) => m.applicationProperties!["sbw-original-message-id"])).size, 10);
  });

  it("--resume completes a dead letter the journal records as sent, without sending it again", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: "a", messageId: "r1" }]);
    const journal = f.path("crash.jsonl");
    await writeFile(
      journal,
      [
        { type: "run", command: "replay", entity: QUEUE, target: QUEUE, at: new Date().toISOString() },
        { type: "message", seq: "1", messageId: "r1", status: "sent", newMessageId: "r1~jobs~dlq1", at: "x" },
      ]
        .map((l) => JSON.stringify(l))
        .join("\n") + '\n{"type":"mess', // a torn last line, as SIGKILL leaves it
    );
    const run = await f.dlq("replay", QUEUE, "--yes", "--resume", journal);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(f.counts(QUEUE).deadLettered, 0);
    assert.equal(f.counts(QUEUE).active, 0, "not sent again");
    assert.match(await readFile(journal, "utf8"), /"status":"completed"/);
  });

  it("refuses a journal of another entity (exit 2)", async () => {
    const journal = f.path("other.jsonl");
    await writeFile(
      journal,
      `${JSON.stringify({ type: "run", command: "replay", entity: "shop/audit", at: "x" })}\n`,
    );
    const run = await f.dlq("replay", QUEUE, "--yes", "--resume", journal);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /journal of "dlq replay shop\/audit"/);
  });
});
