/**
 * A Service Bus outage in the log: every receive loop fails about once a second (each session
 * slot on its own) for as long as it lasts, and a pod that logged each failure would flood the
 * log pipeline. The worker logs the first failure of a streak, then at most a line per 30 s, and
 * one line when the loop works again; the receive-error metric counts every failure. Session
 * slots also back off (doubling delays) instead of retrying in step. Meanwhile the worker is not
 * ready but stays live: restarting pods cannot bring the namespace back.
 */
import assert from "node:assert/strict";
import type { Worker } from "../../../src/worker/worker.js";
import { viaPort } from "../../helpers/tcpProxy.js";
import { eventually, startOutageRig, startTestWorker } from "./helpers.js";

interface Line {
  msg: string;
  subscription?: string;
  errors?: number;
}

describe("worker: a Service Bus outage in the log", function () {
  this.timeout(60_000);
  let rig: Awaited<ReturnType<typeof startOutageRig<Line>>> | undefined;
  let worker: Worker | undefined;

  afterEach(async () => {
    await rig?.close(worker);
    rig = undefined;
    worker = undefined;
  });

  it("logs one line when the receive loops start failing and one when they work again, not one per attempt; not ready meanwhile, but live", async () => {
    rig = await startOutageRig<Line>("outage-logs", 4);
    const { topic, topology, emulator, client, proxy, lines, logger, recorder } = rig;
    const handled = new Set<string>();
    const handler = (sub: string) => async (): Promise<void> => {
      handled.add(sub);
      return Promise.resolve();
    };
    worker = await startTestWorker(
      emulator,
      topology,
      { jobs: { work: { Job: handler("work") }, ordered: { Job: handler("ordered") } } },
      {
        recorder,
        logger,
        env: {
          SERVICEBUS_CONNECTION_STRING: viaPort(emulator.connectionString, proxy.port),
          SBW_SESSION_ACCEPT_TIMEOUT_MS: "1000",
        },
      },
    );
    const w = worker;
    const keys = { work: "jobs/work", ordered: "jobs/ordered" };
    const errors = (key: string): number => recorder.receiveErrors.get(key) ?? 0;
    const logged = (msg: string, key: string): Line[] =>
      lines.filter((l) => l.msg === msg && l.subscription === key.split("/")[1]);

    await eventually(() => w.health().ready, 20); // both loops reached the broker
    await proxy.down();
    await recorder.until(() => errors(keys.work) >= 6 && errors(keys.ordered) >= 12);
    // Each failure counted, few logged: the first of the streak, and at most one more should the
    // kind of error change as the connection goes (reset, then refused).
    const receiveLines = logged("receive error", keys.work).length;
    const acceptLines = logged("accepting a session failed", keys.ordered).length;
    assert.ok(
      receiveLines >= 1 && receiveLines <= 2,
      `receive error lines: ${receiveLines} of ${errors(keys.work)}`,
    );
    assert.ok(
      acceptLines >= 1 && acceptLines <= 2,
      `accept lines: ${acceptLines} of ${errors(keys.ordered)}`,
    );

    // An outage is the readiness probe's business: not ready, but live (a restart cannot bring the
    // namespace back, and restarts would add back-off to the outage).
    const during = w.health();
    assert.equal(during.ready, false, JSON.stringify(during.loops));
    assert.equal(during.live, true, JSON.stringify(during.loops));
    assert.ok(during.loops.every((l) => l.failing));
    const failed = { work: errors(keys.work), ordered: errors(keys.ordered) };
    await proxy.up();
    const sender = client.createSender(topic);
    await sender.sendMessages([
      { subject: "Job", sessionId: "s-1", body: Buffer.from(JSON.stringify({ id: "s-1" })) },
    ]);
    await sender.close();
    // Handled, not necessarily settled: a link that flaps as the connection comes back may lose a
    // settlement (the broker then redelivers when the lock runs out), which is not what this tests.
    await eventually(() => handled.size === 2, 20);
    const [again] = logged("receiving again", keys.work);
    const [accepting] = logged("accepting sessions again", keys.ordered);
    assert.ok(again && accepting, JSON.stringify(lines.map((l) => l.msg)));
    // The recovery line counts the streak's failures (the session probe's one failure is not an accept).
    assert.ok((again.errors ?? 0) >= failed.work, `${again.errors} of ${failed.work}`);
    assert.ok((accepting.errors ?? 0) >= failed.ordered - 1, `${accepting.errors} of ${failed.ordered}`);
    assert.equal(logged("receiving again", keys.work).length, 1);
    assert.equal(logged("accepting sessions again", keys.ordered).length, 1);
    assert.equal(w.health().live, true);
    await eventually(() => w.health().ready, 20);
  });
});
