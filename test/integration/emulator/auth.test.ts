import assert from "node:assert/strict";
import { createHmac } from "node:crypto";

import { ManualClock } from "../../../src/emulator/index.js";
import { configJson, EmulatorFixture, expectServiceBusError, receiveOne } from "../../helpers/emulator.js";

const KEY_NAME = "RootManageSharedAccessKey";
const KEY = "secret";

/** A SAS token as the SDK builds it (core-amqp): HMAC-SHA256 over "<encoded sr>\n<se>" with the key's UTF-8 bytes. */
function sasToken(resource: string, keyName: string, key: string, expiresAtSeconds: number): string {
  const sr = encodeURIComponent(resource);
  const sig = createHmac("sha256", Buffer.from(key, "utf8"))
    .update(`${sr}\n${expiresAtSeconds}`)
    .digest("base64");
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiresAtSeconds}&skn=${keyName}`;
}

describe("emulator: SAS authorization (official SDK)", () => {
  let fx: EmulatorFixture;
  let clock: ManualClock;
  let endpoint: string;

  const withKey = (keyName: string, key: string): string =>
    `Endpoint=${endpoint};SharedAccessKeyName=${keyName};SharedAccessKey=${key};UseDevelopmentEmulator=true`;
  const withSignature = (token: string): string =>
    `Endpoint=${endpoint};SharedAccessSignature=${token};UseDevelopmentEmulator=true`;

  before(async () => {
    clock = new ManualClock();
    fx = await EmulatorFixture.start({
      clock,
      sasKeys: { [KEY_NAME]: KEY },
      config: configJson({ queues: [{ Name: "q1" }, { Name: "q2" }] }),
    });
    endpoint = `sb://127.0.0.1:${fx.emulator.port}`;
  });

  after(async () => {
    await fx.close();
  });

  it("puts the configured key into the connection string", () => {
    assert.match(
      fx.connectionString,
      /SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=secret;/,
    );
  });

  it("lets a client with the right key send, receive and use management operations", async () => {
    const client = fx.client({}, withKey(KEY_NAME, KEY));
    const sender = client.createSender("q1");
    await sender.sendMessages({ body: "authorized" });
    const receiver = client.createReceiver("q1");
    assert.equal((await receiver.peekMessages(1)).length, 1);
    const m = await receiveOne(receiver);
    assert.equal(m.body, "authorized");
    await receiver.completeMessage(m);
    await fx.closeClient(client);
  });

  it("refuses a wrong key with UnauthorizedAccess for senders, receivers and management", async () => {
    const client = fx.client({}, withKey(KEY_NAME, "wrong"));
    await expectServiceBusError(client.createSender("q1").sendMessages({ body: "x" }), "UnauthorizedAccess");
    await expectServiceBusError(
      client.createReceiver("q1").receiveMessages(1, { maxWaitTimeInMs: 1000 }),
      "UnauthorizedAccess",
    );
    await expectServiceBusError(client.createReceiver("q1").peekMessages(1), "UnauthorizedAccess");
    assert.equal(fx.entity("q1").active, 0, "nothing was stored");
    await fx.closeClient(client);
  });

  it("refuses an unknown key name with UnauthorizedAccess", async () => {
    const client = fx.client({}, withKey("SomeOtherKey", KEY));
    await expectServiceBusError(client.createSender("q1").sendMessages({ body: "x" }), "UnauthorizedAccess");
    await fx.closeClient(client);
  });

  it("accepts a namespace-wide SharedAccessSignature and refuses it once expired", async () => {
    // Keep the manual clock near real time: the SDK signs its own tokens with Date.now() + 1 h.
    const expiry = Math.floor(clock.now() / 1000) + 60;
    const token = sasToken(`${endpoint}/`, KEY_NAME, KEY, expiry);
    const valid = fx.client({}, withSignature(token));
    await valid.createSender("q2").sendMessages({ body: "signed" });
    assert.equal(fx.entity("q2").active, 1);
    await fx.closeClient(valid);

    clock.advance(61 * 1000);
    const expired = fx.client({}, withSignature(token));
    await expectServiceBusError(
      expired.createSender("q2").sendMessages({ body: "late" }),
      "UnauthorizedAccess",
    );
    assert.equal(fx.entity("q2").active, 1);
    await fx.closeClient(expired);
  });

  it("refuses a signature scoped to another entity", async () => {
    const token = sasToken(`${endpoint}/q1`, KEY_NAME, KEY, Math.floor(clock.now() / 1000) + 3600);
    const client = fx.client({}, withSignature(token));
    await client.createSender("q1").sendMessages({ body: "in scope" });
    await expectServiceBusError(
      client.createSender("q2").sendMessages({ body: "out of scope" }),
      "UnauthorizedAccess",
    );
    await fx.closeClient(client);
    const receiver = fx.client().createReceiver("q1", { receiveMode: "receiveAndDelete" });
    assert.equal((await receiveOne(receiver)).body, "in scope");
  });

  it("accepts any key when no SAS keys are configured", async () => {
    const open = await EmulatorFixture.start({ config: configJson({ queues: [{ Name: "q" }] }) });
    try {
      const cs = open.connectionString.replace(/SharedAccessKey=[^;]*/, "SharedAccessKey=whatever");
      await open.client({}, cs).createSender("q").sendMessages({ body: "open" });
      assert.equal(open.entity("q").active, 1);
    } finally {
      await open.close();
    }
  });
});
