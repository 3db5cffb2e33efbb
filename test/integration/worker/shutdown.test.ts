/**
 * Shutdown and crashes with real processes: `node bin/sbworker.js run` (the container's command)
 * against an emulator in this test process, with the reference domain.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ServiceBusClient } from "@azure/service-bus";
import { ManualClock, type Emulator } from "../../../src/emulator/index.js";
import { reportChunk } from "../../../src/handlers/reports/generate.js";
import { createPublisher } from "../../../src/publisher/index.js";
import { topology } from "../../../src/topics/index.js";
import { ReportRequested } from "../../../src/topics/reports.js";
import { entity, eventually, startTestEmulator, testClient } from "./helpers.js";
import { isMsg, WorkerProcess } from "./process.js";

const here = dirname(fileURLToPath(import.meta.url));

describe("worker: shutdown and crashes (child processes)", function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  let dir: string;
  const workers: WorkerProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await client.close();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function setUp(clock?: ManualClock): Promise<void> {
    emulator = await startTestEmulator(topology, clock ? { clock } : {});
    client = testClient(emulator);
    dir = await mkdtemp(join(tmpdir(), "sbw-shutdown-"));
  }

  function spawnWorker(env: Record<string, string>): WorkerProcess {
    const worker = new WorkerProcess({
      SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
      SBW_HTTP_PORT: "0",
      SBW_HTTP_HOST: "127.0.0.1",
      SBW_LOG_LEVEL: "debug",
      SBW_SERVICEBUS_TIMEOUT_MS: "5000",
      SBW_SERVICEBUS_RETRY_DELAY_MS: "50",
      SBW_REPORTS_DIR: dir,
      SBW_OUTBOX_DIR: join(dir, "outbox"),
      ...env,
    });
    workers.push(worker);
    return worker;
  }

  async function requestReport(reportId: string, rows: number, chunkSize: number): Promise<void> {
    const publisher = createPublisher({ client, topology });
    await publisher.publish("reports", "ReportRequested", { reportId, kind: "sales", rows, chunkSize });
    await publisher.close();
  }

  function expectedReport(reportId: string, rows: number, chunkSize: number): string {
    const request = ReportRequested.parse({ reportId, kind: "sales", rows, chunkSize });
    let text = "row,date,sku,quantity,amount\n";
    for (let c = 0; c < Math.ceil(rows / chunkSize); c += 1) text += reportChunk(request, c);
    return text;
  }

  it("on SIGTERM during a handler, lets it finish, completes the message and exits 0", async () => {
    await setUp();
    await requestReport("r-finish", 50, 10);
    const worker = spawnWorker({
      SBW_SUBSCRIPTIONS: "reports/generate",
      SBW_REPORT_CHUNK_DELAY_MS: "150",
      SBW_DRAIN_TIMEOUT_MS: "30000",
    });
    await worker.waitFor(isMsg("report chunk written", (l) => l.chunk === 1));
    worker.kill("SIGTERM");
    const exit = await worker.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, worker.stderr.join(""));

    assert.equal(await readFile(join(dir, "r-finish.csv"), "utf8"), expectedReport("r-finish", 50, 10));
    const order = worker.lines.map((l) => l.msg);
    const finished = worker.lines.findIndex(isMsg("report ready", (l) => l.reportId === "r-finish"));
    assert.ok(order.indexOf("draining: intake stopped") < finished, order.join(" | "));
    // By message id: the reference domain's hourly schedule may request a report of its own.
    const completed = isMsg(
      "settled",
      (l) => l.settlement === "complete" && l.messageId === "report:r-finish",
    );
    assert.equal(worker.count(completed), 1);
    const generate = entity(emulator, "reports", "generate");
    assert.deepEqual([generate.active, generate.locked, generate.deadLettered], [0, 0, 0]);
  });

  it("past drainTimeout, aborts the handler and abandons the message; a second worker then processes it", async () => {
    await setUp();
    await requestReport("r-abort", 400, 10);
    const first = spawnWorker({
      SBW_SUBSCRIPTIONS: "reports/generate",
      SBW_REPORT_CHUNK_DELAY_MS: "200",
      SBW_DRAIN_TIMEOUT_MS: "100",
    });
    await first.waitFor(isMsg("report chunk written", (l) => l.chunk === 1));
    first.kill("SIGTERM");
    assert.deepEqual(await first.exited, { code: 0, signal: null }, first.stderr.join(""));
    assert.ok(first.lines.some(isMsg("drain timeout; abandoning", (l) => l.unsettled === 1)));
    assert.equal(first.count(isMsg("report ready", (l) => l.reportId === "r-abort")), 0);
    assert.equal(entity(emulator, "reports", "generate").active, 1);

    const second = spawnWorker({ SBW_SUBSCRIPTIONS: "reports/generate" });
    const ready = await second.waitFor(isMsg("report ready", (l) => l.reportId === "r-abort"));
    assert.equal(ready.attempt, 2, "the abandoned delivery counts as an attempt");
    assert.equal(await readFile(join(dir, "r-abort.csv"), "utf8"), expectedReport("r-abort", 400, 10));
    await eventually(() => entity(emulator, "reports", "generate").locked === 0);
    second.kill("SIGTERM");
    assert.deepEqual(await second.exited, { code: 0, signal: null });
  });

  it("exits once it has shut down, even while something outside the worker still holds the event loop", async () => {
    await setUp();
    // A timer of 10 minutes, preloaded: what the SDK leaves behind, for up to 60 s, when a
    // session settlement went into a connection that dropped.
    const hold = pathToFileURL(join(here, "..", "..", "helpers", "holdEventLoop.mjs")).href;
    const worker = spawnWorker({ SBW_SUBSCRIPTIONS: "reports/generate", NODE_OPTIONS: `--import=${hold}` });
    await worker.waitFor(isMsg("worker started"));
    worker.kill("SIGTERM");
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.stderr.join(""));
    assert.ok(worker.lines.some(isMsg("worker closed")));

    // A failed command keeps its exit code (2: the namespace cannot be reached).
    const cli = new WorkerProcess(
      {
        SERVICEBUS_CONNECTION_STRING:
          "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=a2V5;UseDevelopmentEmulator=true",
        NODE_OPTIONS: `--import=${hold}`,
      },
      ["dlq", "list", "orders/audit"],
    );
    workers.push(cli);
    assert.deepEqual(await cli.exited, { code: 2, signal: null }, cli.stderr.join(""));
    assert.equal(cli.stderr.join("").trim().split("\n").length, 1, "one line on stderr");
  });

  it("after kill -9 mid-batch, every message is processed once the locks expire; none is lost", async () => {
    const clock = new ManualClock();
    await setUp(clock);
    const total = 600;
    const publisher = createPublisher({ client, topology });
    const sender = client.createSender("orders");
    const ids: string[] = [];
    for (let start = 0; start < total; start += 100) {
      const batch = Array.from({ length: 100 }, (_, i) => {
        const message = publisher.toMessage("orders", "OrderPlaced", {
          orderId: `o-${start + i}`,
          customerId: "c",
          email: "c@example.com",
          items: [{ sku: "A-100", quantity: 1, unitPrice: 5 }],
          total: 5,
          currency: "EUR",
          placedAt: new Date(0).toISOString(),
        });
        ids.push(String(message.messageId));
        return message;
      });
      await sender.sendMessages(batch);
    }
    await sender.close();
    await publisher.close();

    const audited = (w: WorkerProcess): string[] =>
      w.lines.filter(isMsg("audited")).map((l) => (l.audit as { messageId: string }).messageId);
    const env = { SBW_SUBSCRIPTIONS: "orders/audit", SBW_CONCURRENCY: "4" };
    const first = spawnWorker(env);
    await first.until(() => first.count(isMsg("audited")) >= 50);
    // Freeze it first: completions it already sent still reach the emulator, and the credits sent
    // with them bring it new (now never settled) deliveries. Once that has played out, the locks
    // it holds are exactly what kill -9 leaves behind. Frozen between a completion and its credit,
    // it holds none: let it run a little and freeze it again.
    const lockedOnceStill = async (): Promise<number> => {
      let last = -1;
      let now = entity(emulator, "orders", "audit").locked;
      while (now !== last) {
        await new Promise((r) => setTimeout(r, 50));
        [last, now] = [now, entity(emulator, "orders", "audit").locked];
      }
      return now;
    };
    for (;;) {
      first.kill("SIGSTOP");
      if ((await lockedOnceStill()) > 0) break;
      const seen = first.count(isMsg("audited"));
      first.kill("SIGCONT");
      await first.until(() => first.count(isMsg("audited")) > seen);
    }
    first.kill("SIGKILL");
    assert.equal((await first.exited).signal, "SIGKILL");
    const before = new Set(audited(first));
    assert.ok(before.size < total, "killed mid-batch");
    const atKill = entity(emulator, "orders", "audit");
    assert.ok(atKill.locked > 0, "the dead worker held locks");

    // The dead worker's locks expire (emulator clock), and those messages come back.
    clock.advance(31_000);
    const second = spawnWorker(env);
    await second.until(() => new Set([...before, ...audited(second)]).size === total);
    await eventually(() => {
      const e = entity(emulator, "orders", "audit");
      return e.active === 0 && e.locked === 0;
    });
    assert.equal(entity(emulator, "orders", "audit").deadLettered, 0);
    assert.deepEqual(new Set([...before, ...audited(second)]), new Set(ids));
    second.kill("SIGTERM");
    assert.deepEqual(await second.exited, { code: 0, signal: null });
  });
});
