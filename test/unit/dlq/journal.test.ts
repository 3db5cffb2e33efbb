import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkResumable, JournalWriter, parseJournal, readJournal } from "../../../src/cli/dlq/journal.js";
import { planRun } from "../../../src/cli/dlq/plan.js";
import type { MessageView } from "../../../src/cli/dlq/view.js";

const run = { type: "run", command: "replay", entity: "jobs", at: "t" };
const entry = (seq: string, status: string) => ({ type: "message", seq, status, at: "t" });
const text = (...lines: object[]) => lines.map((l) => JSON.stringify(l)).join("\n") + "\n";

describe("dlq journal", () => {
  it("treats completed and purged as done, sent-without-completed as sent", () => {
    const state = parseJournal(
      text(
        run,
        entry("1", "sent"),
        entry("1", "completed"),
        entry("2", "sent"),
        entry("3", "failed"),
        entry("4", "purged"),
      ),
      "j",
    );
    assert.deepEqual([...state.done].sort(), ["1", "4"]);
    assert.deepEqual([...state.sent.keys()], ["2"]);
  });

  it("ignores a torn last line but not a corrupt earlier one", () => {
    assert.equal(parseJournal(`${text(run, entry("1", "completed"))}{"type":"mes`, "j").done.size, 1);
    assert.throws(
      () => parseJournal(`${JSON.stringify(run)}\ngarbage\n${JSON.stringify(entry("1", "sent"))}\n`, "j"),
      /j:2: not a journal line/,
    );
  });

  it("resumes only the same command and entity", () => {
    const state = parseJournal(text(run), "j");
    checkResumable(state, "replay", "jobs", "j");
    assert.throws(() => checkResumable(state, "purge", "jobs", "j"), /journal of "dlq replay jobs"/);
    assert.throws(
      () => checkResumable(state, "replay", "orders/audit", "j"),
      /not of "dlq replay orders\/audit"/,
    );
    assert.throws(() => checkResumable(parseJournal("", "j"), "replay", "jobs", "j"), /no run line/);
  });

  it("writes lines that read back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sbw-journal-"));
    try {
      const path = join(dir, "j.jsonl");
      const writer = JournalWriter.open(path, () => new Date(0));
      writer.run({ command: "replay", entity: "jobs", target: "jobs" });
      writer.entry({ seq: "5", messageId: "a", status: "sent", newMessageId: "a~jobs~dlq5" });
      writer.close();
      writer.close(); // idempotent
      assert.match(await readFile(path, "utf8"), /"at":"1970-01-01T00:00:00.000Z"/);
      assert.deepEqual([...readJournal(path).sent], [["5", "a~jobs~dlq5"]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("dlq plan", () => {
  const v = (seq: bigint, replayCount = 0): MessageView =>
    ({
      sequenceNumber: seq,
      messageId: `m${seq}`,
      replayCount,
      applicationProperties: {},
    }) as unknown as MessageView;

  it("replays, skips by the loop guard, and honours a resumed journal", () => {
    const resume = parseJournal(text(run, entry("1", "completed"), entry("2", "sent")), "j");
    const plan = planRun([v(1n), v(2n, 5), v(3n, 3), v(4n, 2)], { command: "replay", maxReplays: 3, resume });
    assert.deepEqual(
      plan.tasks.map((t) => [t.seq, t.mode]),
      [
        ["2", "complete-only"],
        ["4", "replay"],
      ],
    );
    assert.deepEqual(
      plan.settled.map((o) => [o.seq, o.status]),
      [
        ["1", "already-done"],
        ["3", "skipped"],
      ],
    );
  });

  it("purges regardless of the replay count", () => {
    assert.deepEqual(
      planRun([v(1n, 9)], { command: "purge" }).tasks.map((t) => t.mode),
      ["purge"],
    );
  });
});
