/**
 * `dlq list`: counts from the administration API (the emulator's connection string: the admin
 * client's https is rewritten to http because of `UseDevelopmentEmulator=true`), and the fallback
 * to peeking when a selection needs the messages or the API cannot be reached. The refused (401)
 * fallback needs a credential without Manage: test/integration/emulator-admin/credential-path.test.ts.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { plainAdminClient } from "../../helpers/admin.js";
import { viaPort } from "../../helpers/tcpProxy.js";
import { DlqFixture, makeDeadLetters, QUEUE } from "./helpers.js";

interface JsonRow {
  entity: string;
  deadLetters: number | null;
  activeMessages?: number;
  transferDeadLetters?: number;
  oldestEnqueuedTimeUtc?: string;
  error?: string;
  source: "admin" | "peek";
}

function tableRows(stdout: string): string[][] {
  return stdout
    .trim()
    .split("\n")
    .map((l) => l.split(/\s{2,}/));
}

/**
 * A port that forwards AMQP to the emulator but drops anything else (the administration API's
 * HTTP), like a broker whose management endpoint is not reachable from here.
 */
async function amqpOnlyPort(target: number): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", (first: Buffer) => {
      if (first.subarray(0, 4).toString("latin1") !== "AMQP") {
        socket.destroy();
        return;
      }
      const upstream = net.connect(target, "127.0.0.1", () => {
        upstream.write(first);
        socket.pipe(upstream).pipe(socket);
      });
      sockets.add(upstream);
      upstream.on("close", () => (sockets.delete(upstream), socket.destroy()));
      socket.on("close", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("dlq list", function () {
  let f: DlqFixture;
  beforeEach(async () => (f = await DlqFixture.start()));
  afterEach(async () => f.close());

  it("counts every queue and subscription of the namespace from the administration API, highest first", async () => {
    // A queue that is in no topology: the admin path lists the namespace, not src/topics.
    await plainAdminClient(f.emulator).createQueue("made-at-run-time");
    await makeDeadLetters(f, QUEUE, [{ body: 1 }, { body: 2 }]);
    await makeDeadLetters(f, "shop/audit", [{ body: 3 }, { body: 4 }, { body: 5 }]);
    await makeDeadLetters(f, "made-at-run-time", [{ body: 6 }]);
    await f.client().createSender(QUEUE).sendMessages({ body: "still active" });

    const table = await f.dlq("list");
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stderr, "", "the admin path says nothing on stderr");
    assert.deepEqual(tableRows(table.stdout), [
      ["ENTITY", "DEAD LETTERS", "ACTIVE", "ERROR"],
      ["shop/audit", "3", "0"],
      [QUEUE, "2", "1"],
      ["made-at-run-time", "1", "0"],
      ["shop/billing", "0", "0"],
      ["shop/shipping", "0", "0"],
    ]);

    const json = await f.dlq("list", "--json");
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as JsonRow[];
    assert.deepEqual(rows[1], {
      entity: QUEUE,
      deadLetters: 2,
      activeMessages: 1,
      transferDeadLetters: 0,
      source: "admin",
    });
    assert.deepEqual(
      rows.map((r) => [r.entity, r.deadLetters]),
      [
        ["shop/audit", 3],
        [QUEUE, 2],
        ["made-at-run-time", 1],
        ["shop/billing", 0],
        ["shop/shipping", 0],
      ],
    );
    // Nothing was read: no dead letter is locked and the counts match the broker's.
    assert.equal(f.counts(QUEUE).deadLettered, 2);
    assert.equal(f.counts(QUEUE).locked, 0);
  });

  it("--entities asks for those only; a missing one gets its row (exit 1), the others still counted", async () => {
    await makeDeadLetters(f, "shop/billing", [{ body: 1 }]);
    const run = await f.dlq("list", "--entities", `shop/billing,${QUEUE},shop/nope,nope`, "--json");
    assert.equal(run.code, 1);
    const rows = JSON.parse(run.stdout) as JsonRow[];
    assert.deepEqual(
      rows.map((r) => [r.entity, r.deadLetters ?? null, r.error ?? null, r.source]),
      [
        ["shop/billing", 1, null, "admin"],
        [QUEUE, 0, null, "admin"],
        ["nope", null, "nope: not found", "admin"],
        ["shop/nope", null, "shop/nope: not found", "admin"],
      ],
    );
    const table = await f.dlq("list", "--entities", "shop/nope");
    assert.equal(table.code, 2, "nothing readable at all");
    assert.match(table.stdout, /shop\/nope\s+\?\s+\?\s+shop\/nope: not found/);
  });

  it("a selection counts matching dead letters by peeking (with the oldest), without the admin API", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: 1 }, { body: 2 }], "Timeout");
    await makeDeadLetters(f, QUEUE, [{ body: 3 }], "Invalid");
    await makeDeadLetters(f, "shop/audit", [{ body: 4 }], "Timeout");
    const run = await f.dlq("list", "--entities", `${QUEUE},shop/audit`, "--reason", "Timeout", "--json");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const rows = JSON.parse(run.stdout) as JsonRow[];
    assert.deepEqual(
      rows.map((r) => [r.entity, r.deadLetters, r.source]),
      [
        [QUEUE, 2, "peek"],
        ["shop/audit", 1, "peek"],
      ],
    );
    assert.ok(rows.every((r) => typeof r.oldestEnqueuedTimeUtc === "string"));
    const table = await f.dlq("list", "--entities", QUEUE, "--reason", "Invalid");
    assert.deepEqual(tableRows(table.stdout)[0], ["ENTITY", "DEAD LETTERS", "OLDEST", "ERROR"]);
    assert.deepEqual(tableRows(table.stdout)[1]!.slice(0, 2), [QUEUE, "1"]);
  });

  it("falls back to peeking when the administration API is unreachable, saying so in one line", async () => {
    await makeDeadLetters(f, QUEUE, [{ body: 1 }]);
    await makeDeadLetters(f, "shop/audit", [{ body: 2 }, { body: 3 }]);
    const proxy = await amqpOnlyPort(f.emulator.port);
    try {
      const connectionString = viaPort(f.emulator.connectionString, proxy.port);
      const env = { SERVICEBUS_CONNECTION_STRING: connectionString };
      const run = await f.cli(["dlq", "list", "--entities", `shop/audit,${QUEUE},shop/billing`, "--json"], {
        env,
      });
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(
        lines[0]!,
        /^sbworker dlq list: administration API unreachable \(.+\); counting by peeking the dead-letter queues of the given entities instead$/,
      );
      const rows = JSON.parse(run.stdout) as JsonRow[];
      assert.deepEqual(
        rows.map((r) => [r.entity, r.deadLetters, r.source]),
        [
          ["shop/audit", 2, "peek"],
          [QUEUE, 1, "peek"],
          ["shop/billing", 0, "peek"],
        ],
      );

      const named = await f.cli(["dlq", "list", "--entities", `${QUEUE},shop/nope`], { env });
      assert.equal(named.code, 1);
      assert.match(named.stdout, /^jobs\s+1\s+\S+Z$/m);
      assert.match(named.stdout, /shop\/nope\s+\?\s+peek shop\/nope: not found/);
    } finally {
      await proxy.close();
    }
  });
});
