/**
 * The Redis ledger going away under a running worker (the worker in this process, the official
 * SDK against the emulator, the real Redis at REDIS_URL behind a proxy the test takes down):
 *
 * - down when messages arrive: the claim fails, so no handler runs unguarded; a wait copy is
 *   scheduled (same attempt) and the original completed, nothing is dead-lettered, and the outage
 *   is logged once, not per message; once Redis is back, each copy runs its handler exactly once;
 * - down when a finished job's outcome is recorded: the message is still completed (the work is
 *   done; only a duplicate published later could run again), and the failure is logged;
 * - down for longer than a running job's lease: its renewals fail, but nobody could claim the job
 *   meanwhile, so once Redis is back the renewal succeeds and the job runs on to completion.
 */
import assert from "node:assert/strict";
import type { ServiceBusClient } from "@azure/service-bus";
import { Redis } from "ioredis";
import { pino } from "pino";
import { z } from "zod";
import type { Emulator, EntitySnapshot } from "../../../src/emulator/index.js";
import type { HandlerMap } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import type { Worker } from "../../../src/worker/worker.js";
import { deletePrefix, REDIS_URL, scanKeys } from "../../helpers/redis.js";
import { startTcpProxy, type TcpProxy } from "../../helpers/tcpProxy.js";
import {
  entity,
  eventually,
  Recorder,
  startTestEmulator,
  startTestWorker,
  testClient,
  uniqueName,
} from "../worker/helpers.js";

function jobsTopology(name: string) {
  return {
    jobs: defineTopic({
      name,
      messages: { Job: z.object({ id: z.string() }) },
      subscriptions: { work: { policy: { maxAttempts: 3, concurrency: 1 } } },
    }),
  } as const;
}
type Jobs = ReturnType<typeof jobsTopology>;

/** REDIS_URL with its host and port replaced by the proxy's (credentials and database kept). */
function throughProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

describe("jobs: the Redis ledger goes away and comes back", function () {
  this.timeout(30_000);
  let emulator: Emulator;
  let client: ServiceBusClient;
  let worker: Worker | undefined;
  let proxy: TcpProxy;
  let topology: Jobs;
  let prefix: string;
  let logs: { msg: string; jobId?: string }[];

  beforeEach(async () => {
    topology = jobsTopology(uniqueName("outage"));
    emulator = await startTestEmulator(topology);
    client = testClient(emulator);
    const redis = new URL(REDIS_URL);
    proxy = await startTcpProxy(Number(redis.port || 6379), redis.hostname);
    prefix = `${uniqueName("sbw-test-outage")}:`;
    logs = [];
  });

  afterEach(async () => {
    proxy.resume();
    await worker?.close();
    worker = undefined;
    await proxy.close();
    await client.close();
    await emulator.close();
    await deletePrefix(REDIS_URL, prefix);
  });

  async function run(
    handlers: HandlerMap<Jobs>,
    recorder: Recorder,
    env: Record<string, string> = {},
  ): Promise<void> {
    const log = pino(
      { level: "info" },
      { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string; jobId?: string }) },
    );
    worker = await startTestWorker(emulator, topology, handlers, {
      recorder,
      logger: log,
      env: {
        SBW_LEDGER: "redis",
        REDIS_URL: throughProxy(REDIS_URL, proxy.port),
        SBW_LEDGER_PREFIX: prefix,
        ...env,
      },
    });
  }

  async function send(id: string): Promise<void> {
    const sender = client.createSender(topology.jobs.name);
    await sender.sendMessages({ messageId: id, subject: "Job", body: Buffer.from(JSON.stringify({ id })) });
    await sender.close();
  }

  const isEmpty = (e: EntitySnapshot): boolean => e.active + e.locked + e.scheduled + e.deferred === 0;
  /** The running job's `leaseUntil` in Redis (the only job record under this test's prefix). */
  async function leaseUntil(): Promise<number> {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      for await (const [key] of scanKeys(redis, `${prefix}job:*`))
        if (key !== undefined) return Number(await redis.hget(key, "leaseUntil"));
      return 0;
    } finally {
      redis.disconnect();
    }
  }

  const count = (msg: string): number => logs.filter((l) => l.msg === msg).length;

  it("defers a message that arrives while Redis is down, and runs it once when Redis is back", async () => {
    type Run = { id: string; attempt: number };
    const runs: Run[] = [];
    const recorder = new Recorder();
    await run(
      {
        jobs: {
          work: {
            Job: (p, ctx) => {
              runs.push({ id: p.id, attempt: ctx.attempt });
              return Promise.resolve();
            },
          },
        },
      },
      recorder,
    );
    await proxy.down();

    await send("while-down");
    await send("also-down");
    // Not run without the ledger: deferred by scheduled copies, the originals completed.
    await recorder.until(() => recorder.settledEvents.length === 2);
    assert.deepEqual(
      recorder.settledEvents.map((e) => e.settlement.kind),
      ["retry", "retry"],
    );
    // One warning for the outage, not one per deferred message; the metric counts each.
    assert.equal(count("the job ledger is unavailable; deferring the message"), 1);
    assert.ok(recorder.ledgerDeferrals >= 2, `${recorder.ledgerDeferrals} deferrals counted`);
    assert.deepEqual(runs, []);
    // The copies wait in the topic until they are due (5 s; one may come round again meanwhile).
    assert.ok((emulator.snapshot().topics.find((t) => t.name === topology.jobs.name)?.scheduled ?? 0) >= 1);

    await proxy.up();
    await recorder.until(() => recorder.count("complete") === 2);
    // The copies kept the attempt number: the handler never ran before.
    assert.deepEqual(
      // (`as`: the deepEqual above narrowed `runs` to an empty array's type.)
      ([...runs] as Run[]).sort((a, b) => a.id.localeCompare(b.id)),
      [
        { id: "also-down", attempt: 1 },
        { id: "while-down", attempt: 1 },
      ],
    );
    assert.equal(count("the job ledger is available again"), 1);
    await eventually(() => isEmpty(entity(emulator, topology.jobs.name, "work")));
    assert.equal(entity(emulator, topology.jobs.name, "work").deadLettered, 0);
  });

  it("defers a message whose claim gets no answer (Redis partitioned away), and runs it once after", async () => {
    const runs: string[] = [];
    const recorder = new Recorder();
    await run(
      {
        jobs: {
          work: {
            Job: (p) => {
              runs.push(p.id);
              return Promise.resolve();
            },
          },
        },
      },
      recorder,
      { SBW_LEDGER_TIMEOUT_MS: "300" },
    );
    // Packets dropped, no reset: nothing fails, nothing answers. Without a command timeout the
    // claim, and with it the delivery, waited for good.
    proxy.stall();
    await send("partitioned");
    await recorder.until(() => recorder.settledEvents.length === 1);
    assert.equal(recorder.settledEvents[0]!.settlement.kind, "retry", "deferred by a wait copy");
    assert.equal(count("the job ledger is unavailable; deferring the message"), 1);
    assert.deepEqual(runs, []);

    // The partition heals: the claim and its release, held in the network, reach Redis in order,
    // so the copy is not blocked by a claim nobody holds.
    proxy.resume();
    await recorder.until(() => recorder.count("complete") === 1);
    assert.deepEqual(runs, ["partitioned"]);
    await eventually(() => isEmpty(entity(emulator, topology.jobs.name, "work")));
    assert.equal(entity(emulator, topology.jobs.name, "work").deadLettered, 0);
  });

  it("completes a finished job whose outcome cannot be recorded, and logs why", async () => {
    const recorder = new Recorder();
    let runs = 0;
    await run(
      {
        jobs: {
          work: {
            Job: async () => {
              runs += 1;
              await proxy.down(); // Redis dies while the handler runs
            },
          },
        },
      },
      recorder,
    );
    await send("outcome-lost");
    await recorder.until(() => recorder.count("complete") === 1);
    assert.equal(runs, 1);
    assert.ok(logs.some((l) => l.msg === "recording the job's outcome failed" && l.jobId === "outcome-lost"));
    await eventually(() => isEmpty(entity(emulator, topology.jobs.name, "work")));
    assert.equal(entity(emulator, topology.jobs.name, "work").deadLettered, 0);
  });

  it("keeps a running job through an outage longer than its lease: nobody could take the claim meanwhile", async () => {
    const recorder = new Recorder();
    const aborted: string[] = [];
    let outageOver!: () => void;
    const resume = new Promise<void>((resolve) => (outageOver = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    await run(
      {
        jobs: {
          work: {
            Job: async (_p, ctx) => {
              ctx.signal.addEventListener("abort", () => aborted.push(String(ctx.signal.reason)));
              started();
              await resume;
            },
          },
        },
      },
      recorder,
      { SBW_LEDGER_LEASE_MS: "300" }, // renewed every 100 ms
    );
    await send("long-job");
    await running;
    await proxy.down();
    // Several lease lengths without Redis: every renewal fails, and the lease runs out.
    await eventually(() => {
      assert.deepEqual(aborted, [], "the job was aborted");
      return logs.filter((l) => l.msg === "renewing the job's claim failed").length >= 3;
    }, 50);
    await proxy.up();
    // The record still names this worker as the holder, so a renewal succeeds again: the lease
    // (read from Redis directly, not through the proxy) is back in the future.
    await eventually(async () => {
      assert.deepEqual(aborted, [], "the job was aborted");
      return (await leaseUntil()) > Date.now();
    }, 50);
    outageOver();
    await recorder.until(() => recorder.settledEvents.length === 1);

    assert.deepEqual(aborted, []);
    assert.equal(recorder.settledEvents[0]!.settlement.kind, "complete");
  });
});
