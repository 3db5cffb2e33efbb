import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { occupiedPort } from "../../helpers/ports.js";
import { isMsg, WorkerProcess } from "./process.js";

/**
 * `npm start` with no configuration (the README's first command): the embedded emulator, the
 * worker and the example API. Both ports are taken here, as on a machine where RabbitMQ holds
 * 5672 and something else 3000: each falls back to a free port and says so.
 */
describe("sbworker start (zero configuration)", function () {
  this.timeout(60_000);
  let dir: string;
  let start: WorkerProcess | undefined;
  const held: { close: () => Promise<void> }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sbw-start-"));
  });
  after(async () => {
    await start?.stop();
    for (const h of held) await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("falls back to free ports, processes a POST /orders end to end and exits 0 on SIGTERM", async () => {
    const amqp = await occupiedPort();
    const api = await occupiedPort();
    held.push(amqp, api);
    start = new WorkerProcess(
      { SBW_API_PORT: String(api.port) },
      ["start", "--port", String(amqp.port)],
      dir,
    );

    const emulator = await start.waitFor(isMsg("emulator started"));
    assert.notEqual(emulator.port, amqp.port);
    const listening = await start.waitFor(isMsg("example API listening"));
    const url = String(listening.url);
    assert.ok(!url.endsWith(`:${api.port}`), url);
    const stderr = start.stderr.join("");
    assert.match(stderr, new RegExp(`port ${amqp.port} is taken; the emulator uses a free port`));
    assert.match(stderr, new RegExp(`port ${api.port} is taken; the example API uses a free port`));
    // `sbworker publish` finds the emulator through this file.
    const state = JSON.parse(await readFile(join(dir, ".tmp", "sbworker-emulator.json"), "utf8")) as {
      connectionString: string;
    };
    assert.equal(state.connectionString, emulator.connectionString);

    const response = await fetch(`${url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "start-test-1" },
      body: JSON.stringify({ orderId: "o-start-1" }),
    });
    assert.equal(response.status, 202);
    await start.waitFor(isMsg("order state changed", (l) => l.orderId === "o-start-1"));

    start.kill("SIGTERM");
    assert.deepEqual(await start.exited, { code: 0, signal: null });
  });
});
