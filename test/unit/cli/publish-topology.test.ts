/**
 * `sbworker publish` refuses bad input with one line and exit 2 before anything is sent, and
 * `sbworker topology emulator-config` prints the Config.json the emulator starts from.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../../../src/emulator/index.js";
import { topology } from "../../../src/topics/index.js";
import { cli } from "../../helpers/cli.js";

/** Nothing listens there: a refusal proves the command stopped before connecting. */
const NOWHERE = {
  SERVICEBUS_CONNECTION_STRING:
    "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
};

describe("sbworker publish: bad input", () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), "sbworker-publish-"))));
  after(async () => rm(dir, { recursive: true, force: true }));

  const cases: [string, string[], string, Record<string, string>?][] = [
    ["no arguments", [], "expected <topic> <json>"],
    ["an unknown topic", ["nope", "{}"], `unknown topic "nope" (known: ${Object.keys(topology).join(", ")})`],
    [
      "no --subject on a topic with several",
      ["orders", "{}"],
      `--subject is required for topic orders (one of ${Object.keys(topology.orders.messages).join(", ")})`,
    ],
    ["invalid JSON", ["orders", "{oops", "--subject", "OrderPlaced"], "<json> is not valid JSON: "],
    [
      "no connection and no npm start here",
      ["orders", "{}", "--subject", "OrderPlaced"],
      "no Service Bus configured: set SERVICEBUS_CONNECTION_STRING or run npm start first",
      {},
    ],
  ];
  for (const [what, args, message, env] of cases) {
    it(`exits 2 with one line for ${what}`, async () => {
      const run = await cli(["publish", ...args], { cwd: dir, env: env ?? NOWHERE });
      assert.equal(run.code, 2);
      assert.equal(run.out, "");
      assert.ok(run.err.startsWith(`sbworker publish: ${message}`), run.err);
      assert.equal(run.err.split("\n").length, 2, "one line");
    });
  }

  it("exits 2 naming the field for a payload that breaks the contract, before connecting", async () => {
    const run = await cli(["publish", "orders", '{"orderId": 5}', "--subject", "OrderPlaced"], {
      cwd: dir,
      env: NOWHERE,
    });
    assert.equal(run.code, 2, run.err);
    assert.match(run.err, /^sbworker publish: .*orderId.*\n$/);
  });
});

describe("sbworker topology emulator-config", () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), "sbworker-topology-"))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it("prints (or writes with --out) a Config.json the emulator starts with, holding every topic", async () => {
    const printed = await cli(["topology", "emulator-config"], { cwd: dir });
    assert.equal(printed.code, 0, printed.err);
    const written = await cli(["topology", "emulator-config", "--out", "Config.json"], { cwd: dir });
    assert.equal(written.code, 0, written.err);
    assert.equal(await readFile(join(dir, "Config.json"), "utf8"), printed.out);

    const emulator = await startEmulator({ port: 0, config: JSON.parse(printed.out), httpPort: false });
    try {
      const topics = new Set(emulator.snapshot().topics.map((t) => t.name));
      for (const t of Object.values(topology)) assert.ok(topics.has(t.name), `topic ${t.name}`);
    } finally {
      await emulator.close();
    }
  });

  it("exits 2 with one line without the emulator-config verb", async () => {
    const run = await cli(["topology"], { cwd: dir });
    assert.equal(run.code, 2);
    assert.equal(run.err, 'sbworker topology: expected "topology emulator-config"\n');
  });
});
