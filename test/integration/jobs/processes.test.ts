/**
 * Effectively-once processing with real worker processes (`node bin/sbworker.js run`, the
 * reference domain) sharing the real Redis at REDIS_URL (default redis://127.0.0.1:6379), against
 * an emulator in this process. Each test uses its own ledger key prefix and deletes it afterwards.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceBusClient } from "@azure/service-bus";
import { ManualClock, type Emulator } from "../../../src/emulator/index.js";
import { reportChunk } from "../../../src/handlers/reports/generate.js";
import { createPublisher, type PublishOptions } from "../../../src/publisher/index.js";
import { topology } from "../../../src/topics/index.js";
import { ReportRequested } from "../../../src/topics/reports.js";
import { RedisLedgerStore } from "../../../src/worker/ledger/redis.js";
import { Redis } from "ioredis";
import { deletePrefix, REDIS_URL, scanKeys } from "../../helpers/redis.js";
import { entity, eventually, startTestEmulator, testClient } from "../worker/helpers.js";
import { isMsg, type LogLine, WorkerProcess } from "../worker/process.js";

/** The reference topology with short report locks, so a dead worker's lock runs out in seconds. */
function withReportLock(lockDurationMs: number): typeof topology {
  const generate = { ...topology.reports.subscriptions.generate, lockDurationMs };
  return { ...topology, reports: { ...topology.reports, subscriptions: { generate } } };
}

describe("jobs: effectively once across worker processes (Redis ledger)", function () {
  this.timeout(90_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  let dir: string;
  let prefix: string;
  const workers: WorkerProcess[] = [];

  before(async () => {
    // Fail (never skip) when Redis is not there, with the reason.
    const probe = await RedisLedgerStore.connect({ url: REDIS_URL, connectTimeoutMs: 2_000 }).catch(
      (error: unknown) => {
        throw new Error(
          `these tests need Redis at ${REDIS_URL} (set REDIS_URL or start it): ${String(error)}`,
        );
      },
    );
    await probe.close();
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await client?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
    await deletePrefix(REDIS_URL, prefix);
  });

  async function setUp(options: { clock?: ManualClock; reportLockMs?: number } = {}): Promise<void> {
    const shape = options.reportLockMs ? withReportLock(options.reportLockMs) : topology;
    emulator = await startTestEmulator(shape, options.clock ? { clock: options.clock } : {});
    client = testClient(emulator);
    dir = await mkdtemp(join(tmpdir(), "sbw-jobs-"));
    prefix = `sbw-it:${randomUUID().slice(0, 8)}:`;
  }

  function spawnWorker(env: Record<string, string>): WorkerProcess {
    const worker = new WorkerProcess({
      SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
      SBW_HTTP_PORT: "off",
      SBW_LOG_LEVEL: "debug",
      SBW_SERVICEBUS_TIMEOUT_MS: "5000",
      SBW_SERVICEBUS_RETRY_DELAY_MS: "50",
      SBW_REPORTS_DIR: dir,
      SBW_OUTBOX_DIR: join(dir, "outbox"),
      SBW_LEDGER: "redis",
      REDIS_URL,
      SBW_LEDGER_PREFIX: prefix,
      ...env,
    });
    workers.push(worker);
    return worker;
  }

  async function requestReport(reportId: string, rows: number, chunkSize: number, options?: PublishOptions) {
    const publisher = createPublisher({ client, topology });
    await publisher.publish(
      "reports",
      "ReportRequested",
      { reportId, kind: "sales", rows, chunkSize },
      options,
    );
    await publisher.close();
  }

  function expectedReport(reportId: string, rows: number, chunkSize: number): string {
    const request = ReportRequested.parse({ reportId, kind: "sales", rows, chunkSize });
    let text = "row,date,sku,quantity,amount\n";
    for (let c = 0; c < Math.ceil(rows / chunkSize); c += 1) text += reportChunk(request, c);
    return text;
  }

  /**
   * Reports of this id made by `w`. By id: the reference domain's hourly schedule also requests
   * reports, and a tick falls due when a test moves the emulator's clock past the top of the hour.
   */
  const ready = (w: WorkerProcess, reportId: string): number =>
    w.count(isMsg("report ready", (l) => l.reportId === reportId));

  /** A worker's log as short lines, for assertion messages (a failure here must explain itself). */
  const trail = (w: WorkerProcess): string =>
    w.lines
      .map((l: LogLine) =>
        [l.msg, l.messageId, l.attempt, l.jobId]
          .filter((v) => v !== undefined)
          .map((v) => JSON.stringify(v))
          .join(" "),
      )
      .join(" | ");

  /** The fields of every job record of reports/generate under this test's prefix. */
  async function jobRecords(): Promise<Record<string, string>[]> {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const records: Record<string, string>[] = [];
      for await (const keys of scanKeys(redis, `${prefix}job:reports/generate:*`))
        for (const key of keys) records.push(await redis.hgetall(key));
      return records;
    } finally {
      redis.disconnect();
    }
  }

  it("runs the handler once when two workers each receive a copy of the same job", async () => {
    await setUp();
    const env = {
      SBW_SUBSCRIPTIONS: "reports/generate",
      SBW_REPORT_CHUNK_DELAY_MS: "100",
      SBW_LEDGER_LEASE_MS: "1500",
      SBW_CONCURRENCY: "1", // one message each: the two copies go to different processes
    };
    const [a, b] = [spawnWorker(env), spawnWorker(env)];
    // A publisher that sent the same request twice (a retry after a timeout, a new MessageId).
    const key = { applicationProperties: { "idempotency-key": "report-twice" } };
    await requestReport("r-twice", 100, 10, { ...key, messageId: "first-send" });
    await requestReport("r-twice", 100, 10, { ...key, messageId: "second-send" });
    const skipped = (): number =>
      a.count(isMsg("job already done; completed without running")) +
      b.count(isMsg("job already done; completed without running"));
    await eventually(() => ready(a, "r-twice") + ready(b, "r-twice") === 1 && skipped() === 1, 100);
    const deferred = (w: WorkerProcess): number => w.count(isMsg("job held by another worker; deferred"));
    const [runner, other] = ready(a, "r-twice") === 1 ? [a, b] : [b, a];
    assert.ok(deferred(other) >= 1, "the copy that reached the other process while the job ran waited");
    assert.equal(ready(runner, "r-twice") + ready(other, "r-twice"), 1, "the handler ran once");
    assert.equal(skipped(), 1, "the second copy was completed without running");
    await eventually(() => {
      const e = entity(emulator, "reports", "generate");
      return e.active + e.locked === 0;
    }, 100);
    assert.equal(entity(emulator, "reports", "generate").deadLettered, 0);
    assert.equal(await readFile(join(dir, "r-twice.csv"), "utf8"), expectedReport("r-twice", 100, 10));
  });

  it("does not run the handler again after kill -9 between recording the outcome and complete", async () => {
    const clock = new ManualClock();
    await setUp({ clock });
    await requestReport("r-fault", 30, 10);
    const first = spawnWorker({ SBW_SUBSCRIPTIONS: "reports/generate", SBW_FAULT: "exit-before-complete" });
    const exit = await first.exited;
    assert.equal(exit.signal, "SIGKILL", first.stderr.join(""));
    assert.equal(ready(first, "r-fault"), 1, "the handler ran and returned");
    assert.equal(entity(emulator, "reports", "generate").locked, 1, "complete never reached the broker");
    const records = await jobRecords();
    assert.deepEqual(
      records.map((r) => r.state),
      ["done"],
      `the outcome was recorded before the kill; the first worker logged: ${trail(first)}`,
    );

    clock.advance(5 * 60_000 + 1_000); // the dead worker's lock runs out: the broker redelivers
    const second = spawnWorker({ SBW_SUBSCRIPTIONS: "reports/generate" });
    await second.waitFor(isMsg("job already done; completed without running"));
    await eventually(() => entity(emulator, "reports", "generate").locked === 0);
    assert.equal(ready(second, "r-fault"), 0, `not run again; the second worker logged: ${trail(second)}`);
    const generate = entity(emulator, "reports", "generate");
    assert.deepEqual([generate.active, generate.deadLettered], [0, 0]);
  });

  it("takes over a dead worker's claim when its lease expires, and resumes the report from its checkpoint", async () => {
    await setUp({ reportLockMs: 5_000 });
    const rows = 400;
    const chunk = 10;
    await requestReport("r-resume", rows, chunk);
    const env = { SBW_SUBSCRIPTIONS: "reports/generate", SBW_LEDGER_LEASE_MS: "8000" };
    const first = spawnWorker({ ...env, SBW_REPORT_CHUNK_DELAY_MS: "100" });
    await first.waitFor(isMsg("report chunk written", (l) => l.chunk === 8));
    first.kill("SIGKILL");
    await first.exited;

    const second = spawnWorker(env);
    // Its lock ran out after 5 s; the claim's lease (8 s) outlives it: the job waits, then is taken over.
    await second.waitFor(isMsg("job held by another worker; deferred"));
    await second.waitFor(isMsg("took over an expired claim"));
    const resumed = await second.waitFor(isMsg("report resumed"));
    assert.ok(Number(resumed.fromChunk) >= 8, `resumed at chunk ${String(resumed.fromChunk)}`);
    await second.waitFor(isMsg("report ready", (l) => l.reportId === "r-resume"));
    assert.ok(
      second.count(isMsg("report chunk written", (l) => l.chunk === 1 && l.reportId === "r-resume")) === 0,
      "did not start over",
    );
    assert.equal(await readFile(join(dir, "r-resume.csv"), "utf8"), expectedReport("r-resume", rows, chunk));
    await eventually(() => {
      const e = entity(emulator, "reports", "generate");
      return e.active + e.locked + e.scheduled === 0;
    }, 100);
  });

  it("stops a running job within a second of CancelJob, on another worker, and dead-letters it as Cancelled", async () => {
    await setUp();
    await requestReport("r-cancel", 10_000, 10);
    const runner = spawnWorker({ SBW_SUBSCRIPTIONS: "reports/generate", SBW_REPORT_CHUNK_DELAY_MS: "200" });
    const controller = spawnWorker({ SBW_SUBSCRIPTIONS: "job-control/cancel" });
    await runner.waitFor(isMsg("report chunk written", (l) => l.chunk === 2));
    await controller.waitFor(isMsg("consumer started"));

    const publisher = createPublisher({ client, topology });
    const sentAt = Date.now();
    await publisher.publish("job-control", "CancelJob", { jobId: "report:r-cancel", reason: "user asked" });
    await publisher.close();
    const dead = await runner.waitFor(isMsg("dead-lettered", (l) => l.reason === "Cancelled"));
    const elapsed = Number(new Date(String(dead.time)).getTime()) - sentAt;
    assert.ok(elapsed < 1_000, `stopped ${elapsed} ms after CancelJob`);
    await eventually(() => entity(emulator, "reports", "generate").deadLettered === 1);
    const dlq = client.createReceiver("reports", "generate", { subQueueType: "deadLetter" });
    const [message] = await dlq.peekMessages(1);
    await dlq.close();
    assert.equal(message?.deadLetterReason, "Cancelled");

    // A foreground service saw the job start, progress and end on job-events.
    await eventually(async () => {
      const status = client.createReceiver("job-events", "status");
      const events = await status.peekMessages(100);
      await status.close();
      const subjects = new Set(events.map((e) => e.subject));
      return subjects.has("JobStarted") && subjects.has("JobProgress") && subjects.has("JobDeadLettered");
    }, 100);
  });
});
