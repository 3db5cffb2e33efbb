/**
 * The crash test: the real CLI process (`node bin/sbworker.js`) replays with a journal and is
 * killed with SIGKILL part-way; a second run with --resume finishes. Afterwards every message is
 * in exactly one place: replayed once (a send whose completion was lost is either completed on
 * resume from the journal's `sent` record, or re-sent with the same MessageId and absorbed by
 * duplicate detection), and the DLQ is empty.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ManualClock } from "../../../src/emulator/index.js";
import { completedLines, DlqFixture, makeDeadLetters, QUEUE, resumeReplaysEachOnce } from "./helpers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const COUNT = 40;

describe("dlq replay killed mid-way", function () {
  this.timeout(60_000);
  let f: DlqFixture;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock();
    f = await DlqFixture.start({ clock });
  });
  afterEach(async () => f.close());

  it("loses and duplicates nothing after SIGKILL and --resume", async () => {
    await makeDeadLetters(
      f,
      QUEUE,
      Array.from({ length: COUNT }, (_, i) => ({ body: `payload-${i}`, messageId: `k${i}` })),
    );
    const journal = f.path("kill.jsonl");
    const child = spawn(
      process.execPath,
      [
        join(ROOT, "bin", "sbworker.js"),
        "dlq",
        "replay",
        QUEUE,
        "--yes",
        "--journal",
        journal,
        "--rate",
        "25",
        "--concurrency",
        "4",
      ],
      {
        cwd: f.dir,
        env: { ...process.env, ...f.env, SBW_FROM_SOURCE: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let killed = false;
    while (!killed) {
      if ((await completedLines(journal)) >= 8) {
        child.kill("SIGKILL");
        killed = true;
      } else if (child.exitCode !== null) {
        assert.fail(`the replay finished before it could be killed:\n${output}`);
      } else {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    assert.equal(await exited, null, "killed by a signal");
    const doneBefore = await completedLines(journal);
    assert.ok(doneBefore < COUNT, `killed part-way (${doneBefore} of ${COUNT} done)`);

    // The dead process's locks lapse after the lock duration (30 s), as on the real service.
    clock.advance(31_000);
    assert.equal(f.counts(QUEUE).locked, 0);

    const replayed = await resumeReplaysEachOnce(f, QUEUE, journal, COUNT);
    const bodies = replayed.map((m) => (m.body as Buffer).toString()).sort();
    // The SDK sent the string bodies JSON-encoded (with quotes); the replay kept those bytes.
    assert.deepEqual(bodies, Array.from({ length: COUNT }, (_, i) => JSON.stringify(`payload-${i}`)).sort());
  });
});
