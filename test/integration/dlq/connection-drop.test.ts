/**
 * The connection to Service Bus drops in the middle of a replay (the CLI in this process reaches
 * the emulator through a proxy the test takes down). The run ends with exit 1, a reason line per
 * message that failed, and stops starting messages after ten failures in a row; nothing is lost, and `--resume` after the connection is back
 * finishes the rest with each message replayed exactly once.
 *
 * And a partition in the middle of a replay (the proxy stalls: nothing answers, nothing resets):
 * the same ending, in bounded time. Before, each settlement waited the SDK's fixed 60 s, and
 * closing the sender waited for good, so the command never printed its error.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/emulator/index.js";
import { startTcpProxy, type TcpProxy, viaPort } from "../../helpers/tcpProxy.js";
import { completedLines, DlqFixture, makeDeadLetters, QUEUE, resumeReplaysEachOnce } from "./helpers.js";

const COUNT = 30;

describe("dlq replay when the connection drops mid-way", function () {
  this.timeout(60_000);
  let f: DlqFixture;
  let clock: ManualClock;
  let proxy: TcpProxy;
  beforeEach(async () => {
    clock = new ManualClock();
    f = await DlqFixture.start({ clock });
    proxy = await startTcpProxy(f.emulator.port);
  });
  afterEach(async () => {
    await proxy.close();
    await f.close();
  });

  it("exits 1 with a reason per failed message, stops after 10 in a row, and --resume finishes: each message once", async () => {
    await makeDeadLetters(
      f,
      QUEUE,
      Array.from({ length: COUNT }, (_, i) => ({ body: `payload-${i}`, messageId: `d${i}` })),
    );
    const journal = f.path("drop.jsonl");
    const env = {
      SERVICEBUS_CONNECTION_STRING: viaPort(f.emulator.connectionString, proxy.port),
    };
    const run = f.cli(
      ["dlq", "replay", QUEUE, "--yes", "--journal", journal, "--rate", "25", "--concurrency", "2"],
      { env },
    );
    while ((await completedLines(journal)) < 5) await new Promise((r) => setTimeout(r, 10));
    await proxy.down();
    const first = await run;

    assert.equal(first.code, 1, first.stdout + first.stderr);
    const done = await completedLines(journal);
    assert.ok(done >= 5 && done < COUNT, `part-way: ${done} of ${COUNT}`);
    // One line per message that failed, each saying why; after ten failures in a row the run
    // starts no more (the one other in flight may fail too), and the rest are left untouched.
    const failed = first.stdout.split("\n").filter((l) => /^\d+\s+d\d+\s/.test(l));
    for (const line of failed) assert.match(line, /send failed: \S.*ECONNREFUSED/, line);
    assert.ok(failed.length >= 10 && failed.length <= 11, first.stdout);
    const interrupted = Number(/interrupted\s+(\d+)/.exec(first.stdout)?.[1] ?? 0);
    assert.equal(failed.length + interrupted, COUNT - done, first.stdout);
    assert.match(first.stderr, /stopped after 10 failures in a row \(last: send failed: .*ECONNREFUSED/);

    // Back online; the dead connection's locks lapse after the lock duration, as on the service.
    await proxy.up();
    clock.advance(31_000);
    await resumeReplaysEachOnce(f, QUEUE, journal, COUNT);
  });

  it("in a partition, ends with exit 1 in bounded time, and --resume finishes: each message once", async () => {
    await makeDeadLetters(
      f,
      QUEUE,
      Array.from({ length: COUNT }, (_, i) => ({ body: `payload-${i}`, messageId: `d${i}` })),
    );
    const journal = f.path("stall.jsonl");
    const env = {
      SERVICEBUS_CONNECTION_STRING: viaPort(f.emulator.connectionString, proxy.port),
      SBW_SERVICEBUS_TIMEOUT_MS: "500",
      SBW_SERVICEBUS_MAX_RETRIES: "0",
      SBW_CLOSE_TIMEOUT_MS: "300",
    };
    const run = f.cli(
      ["dlq", "replay", QUEUE, "--yes", "--journal", journal, "--rate", "25", "--concurrency", "30"],
      { env },
    );
    while ((await completedLines(journal)) < 5) await new Promise((r) => setTimeout(r, 10));
    proxy.stall();
    const first = await run; // before: never returned

    assert.equal(first.code, 1, first.stdout + first.stderr);
    const done = await completedLines(journal);
    assert.ok(done >= 5 && done < COUNT, `part-way: ${done} of ${COUNT}`);
    const failed = first.stdout.split("\n").filter((l) => /^\d+\s+d\d+\s/.test(l));
    assert.equal(failed.length, COUNT - done, first.stdout);

    // The partition heals; the locks the stalled run held lapse, as on the service.
    proxy.resume();
    clock.advance(31_000);
    await resumeReplaysEachOnce(f, QUEUE, journal, COUNT);
  });
});
