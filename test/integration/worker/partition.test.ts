/**
 * A network partition at shutdown: the pod is told to stop while its connection to Service Bus is
 * black-holed (packets dropped, no reset: a node's network failing, a NAT entry gone). Stopping a
 * receiver, abandoning what the drain gave up on and closing links and connections each wait for
 * a broker that cannot answer, and the SDK bounds none of the first (it waited for good). The
 * worker bounds every step by SBW_CLOSE_TIMEOUT_MS, logs what it left behind, and closes; nothing
 * is lost: what it held comes back once the partition heals or the locks expire.
 */
import assert from "node:assert/strict";
import type { Worker } from "../../../src/worker/worker.js";
import { viaPort } from "../../helpers/tcpProxy.js";
import { entity, eventually, startOutageRig, startTestWorker } from "./helpers.js";

interface Line {
  msg: string;
  resource?: string;
  subscription?: string;
  level: number;
}

describe("worker: a network partition at shutdown", function () {
  this.timeout(60_000);
  let rig: Awaited<ReturnType<typeof startOutageRig<Line>>> | undefined;
  let worker: Worker | undefined;

  afterEach(async () => {
    await rig?.close(worker);
    rig = undefined;
    worker = undefined;
  });

  it("closes anyway, bounding each step by the close timeout, and loses nothing", async () => {
    rig = await startOutageRig<Line>("partition", 2);
    const { topic, topology, emulator, client, proxy, lines, logger, recorder } = rig;
    // Each handler runs until the drain gives up on it.
    const held = async (_job: { id: string }, ctx: { signal: AbortSignal }): Promise<void> =>
      new Promise<void>((_, reject) =>
        ctx.signal.addEventListener("abort", () =>
          reject(new Error("aborted", { cause: ctx.signal.reason })),
        ),
      );
    worker = await startTestWorker(
      emulator,
      topology,
      { jobs: { work: { Job: held }, ordered: { Job: held } } },
      {
        recorder,
        logger,
        env: {
          SERVICEBUS_CONNECTION_STRING: viaPort(emulator.connectionString, proxy.port),
          SBW_SESSION_ACCEPT_TIMEOUT_MS: "1000",
          SBW_DRAIN_TIMEOUT_MS: "200",
          SBW_CLOSE_TIMEOUT_MS: "500",
        },
      },
    );
    const sender = client.createSender(topic);
    await sender.sendMessages({
      subject: "Job",
      sessionId: "s-1",
      body: Buffer.from(JSON.stringify({ id: "s-1" })),
    });
    await sender.close();
    await recorder.until(() => recorder.started.length === 2); // one in each subscription

    proxy.stall();
    const w = worker;
    worker = undefined;
    await w.close(); // before: waited for good, in stopping the plain receiver

    const msgs = lines.map((l) => l.msg);
    assert.ok(msgs.includes("worker closed"), msgs.join(" | "));
    assert.ok(
      lines.some(
        (l) => l.msg === "stopping the receiver timed out; draining anyway" && l.subscription === "jobs/work",
      ),
      msgs.join(" | "),
    );
    assert.equal(lines.filter((l) => l.msg === "drain timeout; abandoning").length, 2, msgs.join(" | "));
    // The abandons went into the partition: bounded, they failed, and the locks are left to expire.
    assert.equal(recorder.count("abandon"), 0);
    const leftBehind = lines.filter((l) => l.msg === "release timed out; left behind").map((l) => l.resource);
    assert.ok(leftBehind.includes("servicebus client"), JSON.stringify(leftBehind));
    assert.ok(
      lines.every((l) => l.msg !== "release failed"),
      "a close that ran over is a warning, not a failure",
    );

    // Nothing lost: the partition heals, and both messages are still there for the next worker.
    proxy.resume();
    for (const sub of ["work", "ordered"])
      await eventually(() => {
        const e = entity(emulator, topic, sub);
        return e.active + e.locked === 1 && e.deadLettered === 0;
      });
  });
});
