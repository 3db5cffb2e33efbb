import assert from "node:assert/strict";
import { request } from "node:http";
import { z } from "zod";
import type { Emulator } from "../../../src/emulator/index.js";
import { defineHandlers } from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { startWorker, type Worker } from "../../../src/worker/worker.js";
import {
  fastClientOptions,
  Recorder,
  startTestEmulator,
  testConfig,
  testLogger,
  uniqueName,
} from "./helpers.js";

function get(
  port: number,
  path: string,
): Promise<{ status: number; body: { ok: boolean; draining?: boolean } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { ok: boolean } }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("worker: health endpoints", function () {
  this.timeout(20_000);
  let emulator: Emulator;
  let worker: Worker | undefined;

  afterEach(async () => {
    await worker?.close();
    await emulator.close();
  });

  it("is live and turns ready once every consumer reached the broker; not ready while draining", async () => {
    const name = uniqueName("health");
    const topology = {
      health: defineTopic({
        name,
        messages: { Ping: z.object({ key: z.string() }) },
        sessionId: (m) => m.payload.key,
        subscriptions: { plain: {}, ordered: { requiresSession: true } },
      }),
    } as const;
    emulator = await startTestEmulator(topology);
    const h = async (): Promise<void> => {};
    worker = await startWorker({
      config: testConfig(emulator, { SBW_HTTP_PORT: "0", SBW_HTTP_HOST: "127.0.0.1" }),
      registry: defineHandlers(topology, { health: { plain: { Ping: h }, ordered: { Ping: h } } }),
      logger: testLogger(),
      observers: [new Recorder()],
      clientOptions: fastClientOptions,
    });
    const port = worker.http!.port;
    assert.equal((await get(port, "/livez")).status, 200);
    while ((await get(port, "/readyz")).status !== 200) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await get(port, "/nope")).status, 404);

    const closing = worker.close();
    assert.equal(worker.draining, true);
    assert.equal(worker.health().ready, false);
    await closing;
    worker = undefined;
  });
});
