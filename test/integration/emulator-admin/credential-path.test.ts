/**
 * The production connection path end to end: the worker, `sbworker publish` and `sbworker dlq`
 * run as child processes configured exactly as on AKS with workload identity: `SERVICEBUS_NAMESPACE`
 * plus the webhook's `AZURE_*` variables, nothing else. `DefaultAzureCredential` (src/worker/client.ts)
 * picks `WorkloadIdentityCredential`, which exchanges the federated token file at
 * `AZURE_AUTHORITY_HOST` — here a local token endpoint the test starts
 * (test/helpers/workload-identity.ts) that answers with emulator-signed JWTs — and the SDK speaks
 * AMQPS and HTTPS to the emulator (`--tls --auth=entra`). The only trust setting is
 * `NODE_EXTRA_CA_CERTS` = the emulator's CA file.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { ServiceBusClient } from "@azure/service-bus";

import type { Emulator, EntitySnapshot } from "../../../src/emulator/index.js";
import { createPublisher } from "../../../src/publisher/index.js";
import { subscriptionKeys, topology } from "../../../src/topics/index.js";
import { LocalTokenEndpoint, SERVICE_BUS_SCOPE } from "../../helpers/workload-identity.js";
import { startTestEmulator, testClient } from "../worker/helpers.js";
import { WorkerProcess, type LogLine } from "../worker/process.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const BIN = join(ROOT, "bin", "sbworker.js");

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The command's own stderr: without Node's DEP0123 warning, which TLS to `127.0.0.1` prints
 * (the SDK passes the host as SNI server name; see podEnv).
 */
function ownStderr(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !l.startsWith("(node:") && !l.startsWith("(Use `node --trace-"))
    .join("\n");
}

/** `node bin/sbworker.js <args>` with exactly `env`. */
function sbworker(args: readonly string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({
        code: error ? (typeof error.code === "number" ? error.code : -1) : 0,
        stdout,
        stderr: ownStderr(stderr),
      }),
    );
  });
}

function order(orderId: string) {
  const now = new Date().toISOString();
  return {
    placed: {
      orderId,
      customerId: "c-1",
      email: "ada@example.com",
      items: [{ sku: "sku-1", quantity: 2, unitPrice: 5 }],
      total: 10,
      currency: "EUR",
      placedAt: now,
    },
    paid: { orderId, paymentId: `pay-${orderId}`, amount: 10, capturedAt: now },
    shipped: { orderId, carrier: "ups", trackingNumber: `1Z-${orderId}`, shippedAt: now },
  };
}

describe("credential path: worker, publish and dlq with SERVICEBUS_NAMESPACE + workload identity over TLS", function () {
  this.timeout(120_000);
  let emulator: Emulator;
  let sas: ServiceBusClient;
  let sts: LocalTokenEndpoint;
  let dir: string;
  const workers: WorkerProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sbw-credential-path-"));
    emulator = await startTestEmulator(topology, { tls: true, tlsDir: dir, auth: "entra" });
    // Set-up and checks go through the emulator's SAS key (local auth stays on with entra).
    sas = testClient(emulator);
    sts = await LocalTokenEndpoint.start(dir);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  after(async () => {
    await sas?.close();
    await sts?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** What a pod gets: the namespace, the webhook's variables, the CA; no connection string. */
  function podEnv(
    identity: Record<string, string>,
    extra: Record<string, string> = {},
  ): Record<string, string> {
    return {
      PATH: process.env.PATH ?? "",
      HOME: dir, // no developer `az login` to fall back on
      SBW_FROM_SOURCE: "1",
      NODE_EXTRA_CA_CERTS: emulator.caPath!,
      // The worker's configuration wants a dotted host; the certificate covers 127.0.0.1.
      SERVICEBUS_NAMESPACE: `127.0.0.1:${emulator.tlsPort}`,
      SBW_SERVICEBUS_TIMEOUT_MS: "10000",
      SBW_SERVICEBUS_MAX_RETRIES: "1",
      SBW_SERVICEBUS_RETRY_DELAY_MS: "50",
      ...identity,
      ...extra,
    };
  }

  const counts = (entity: string): EntitySnapshot => {
    const name = entity.replace("/", "/Subscriptions/");
    const found = emulator.snapshot().entities.find((e) => e.name.toLowerCase() === name.toLowerCase());
    assert.ok(found, `no entity ${name}`);
    return found;
  };

  async function drainSas(entity: string): Promise<number> {
    const [topic, subscription] = entity.split("/") as [string, string];
    const receiver = sas.createReceiver(topic, subscription, { receiveMode: "receiveAndDelete" });
    let n = 0;
    for (;;) {
      const batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: 200 });
      if (batch.length === 0) break;
      n += batch.length;
    }
    await receiver.close();
    return n;
  }

  it("(a) the worker runs end to end: DefaultAzureCredential → workload identity → AMQPS", async () => {
    const identity = sts.identity("sbw-worker", ["Send", "Listen"]);
    const worker = new WorkerProcess(
      podEnv(identity, {
        SBW_SUBSCRIPTIONS: "orders/fulfillment,orders/audit",
        SBW_HTTP_PORT: "off",
        SBW_LOG_LEVEL: "debug",
        SBW_SESSION_ACCEPT_TIMEOUT_MS: "2000",
      }),
    );
    workers.push(worker);
    await worker.waitFor((l) => l.msg === "worker started");

    const o = order("cred-a");
    const publisher = createPublisher({ client: sas, topology });
    await publisher.publish("orders", "OrderPlaced", o.placed);
    await publisher.publish("orders", "PaymentCaptured", o.paid);
    await publisher.publish("orders", "OrderShipped", o.shipped);
    await publisher.close();

    const isOrder = (l: LogLine): boolean =>
      l.orderId === "cred-a" || (l.audit as { orderId?: string })?.orderId === "cred-a";
    await worker.until(() => worker.count((l) => l.msg === "audited" && isOrder(l)) === 3);
    await worker.waitFor(
      (l) => l.msg === "order state changed" && l.orderId === "cred-a" && l.to === "shipped",
    );
    await worker.until(() => worker.count((l) => l.msg === "settled") >= 6);
    assert.equal(
      worker.count((l) => l.msg === "dead-lettered"),
      0,
    );

    // The handlers' follow-ups were sent with the worker's token too.
    assert.equal(counts("notifications/email").active, 2);
    assert.equal(await drainSas("notifications/email"), 2);
    for (const s of ["orders/fulfillment", "orders/audit"]) {
      const c = counts(s);
      assert.deepEqual([c.active, c.locked, c.deadLettered], [0, 0, 0], s);
    }
    // Tokens came from the federated-token exchange, for Service Bus's scope.
    assert.ok(sts.granted("sbw-worker") >= 1);
    assert.ok(sts.exchanges.every((e) => e.scope === SERVICE_BUS_SCOPE && e.granted));

    worker.kill("SIGTERM");
    assert.deepEqual(await worker.exited, { code: 0, signal: null });
    assert.ok(worker.lines.some((l) => l.msg === "worker closed"));
  });

  it("(b) sbworker publish sends with a Send identity; a Listen-only identity is refused and told why", async () => {
    const o = order("cred-b");
    const sent = await sbworker(
      ["publish", "orders", JSON.stringify(o.placed), "--subject", "OrderPlaced"],
      podEnv(sts.identity("sbw-publisher", ["Send"])),
    );
    assert.equal(sent.code, 0, sent.stderr);
    const out = JSON.parse(sent.stdout.trim()) as { topic: string; subject: string; messageId: string };
    assert.deepEqual(
      [out.topic, out.subject, out.messageId],
      ["orders", "OrderPlaced", "cred-b:OrderPlaced"],
    );
    assert.equal(counts("orders/audit").active, 1);
    assert.equal(counts("orders/fulfillment").active, 1);

    const refused = await sbworker(
      ["publish", "orders", JSON.stringify(order("cred-b2").placed), "--subject", "OrderPlaced"],
      podEnv(sts.identity("sbw-reader", ["Listen"]), { SBW_SERVICEBUS_MAX_RETRIES: "0" }),
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /'Send' claim\(s\) are required/);
    assert.equal(counts("orders/audit").active, 1, "nothing more arrived");
    assert.equal(await drainSas("orders/audit"), 1);
    const session = await sas.acceptSession("orders", "fulfillment", "cred-b", {
      receiveMode: "receiveAndDelete",
    });
    assert.equal((await session.receiveMessages(1, { maxWaitTimeInMs: 2000 })).length, 1);
    await session.close();
  });

  it("(c) sbworker dlq peek and replay with a Listen + Send identity", async () => {
    // Two dead letters in orders/audit, made through the SAS key.
    const sender = sas.createSender("orders");
    await sender.sendMessages(
      ["x1", "x2"].map((id) => ({
        body: { orderId: id },
        messageId: `dl-${id}`,
        subject: "OrderPlaced",
        applicationProperties: { "sbw-replay-to": "audit" },
      })),
    );
    await sender.close();
    const receiver = sas.createReceiver("orders", "audit");
    const received = await receiver.receiveMessages(2, { maxWaitTimeInMs: 3000 });
    assert.equal(received.length, 2);
    for (const m of received)
      await receiver.deadLetterMessage(m, {
        deadLetterReason: "HandlerFailed",
        deadLetterErrorDescription: "boom",
      });
    await receiver.close();

    const operator = podEnv(sts.identity("sbw-operator", ["Listen", "Send"]));
    const peek = await sbworker(["dlq", "peek", "orders/audit", "--json"], operator);
    assert.equal(peek.code, 0, peek.stderr);
    const rows = JSON.parse(peek.stdout) as { messageId: string; deadLetterReason: string }[];
    assert.deepEqual(
      rows.map((r) => [r.messageId, r.deadLetterReason]),
      [
        ["dl-x1", "HandlerFailed"],
        ["dl-x2", "HandlerFailed"],
      ],
    );
    assert.equal(counts("orders/audit").locked, 0);

    const replay = await sbworker(["dlq", "replay", "orders/audit", "--yes"], operator);
    assert.equal(replay.code, 0, replay.stderr);
    const c = counts("orders/audit");
    assert.deepEqual([c.deadLettered, c.active], [0, 2]);
    assert.equal(counts("orders/fulfillment").active, 0, "replayed to audit only");
    assert.equal(await drainSas("orders/audit"), 2);
  });

  it("(d) dlq list reads the administration API over HTTPS with a Manage identity", async () => {
    const sender = sas.createSender("orders");
    await sender.sendMessages({
      body: {},
      subject: "OrderPlaced",
      applicationProperties: { "sbw-replay-to": "audit" },
    });
    await sender.close();
    const receiver = sas.createReceiver("orders", "audit");
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    await receiver.deadLetterMessage(m!, {
      deadLetterReason: "HandlerFailed",
      deadLetterErrorDescription: "boom",
    });
    await receiver.close();

    const owner = await sbworker(["dlq", "list", "--json"], podEnv(sts.identity("sbw-owner", ["Manage"])));
    assert.equal(owner.code, 0, owner.stderr);
    assert.equal(owner.stderr, "");
    const rows = JSON.parse(owner.stdout) as { entity: string; deadLetters: number; source: string }[];
    assert.deepEqual(rows[0], {
      entity: "orders/audit",
      deadLetters: 1,
      activeMessages: 0,
      transferDeadLetters: 0,
      source: "admin",
    });
    assert.deepEqual(
      rows.map((r) => r.entity).sort(),
      [...subscriptionKeys(topology)].sort(),
      "every subscription of the namespace (the reference topology has no queues)",
    );
    assert.ok(rows.every((r) => r.source === "admin"));

    // (e) Without Manage the API answers 401: one line, then the topology's DLQs are peeked.
    const reader = await sbworker(["dlq", "list", "--json"], podEnv(sts.identity("sbw-reader", ["Listen"])));
    assert.equal(reader.code, 0, reader.stderr);
    assert.equal(
      reader.stderr,
      "sbworker dlq list: administration API refused (401 UnauthorizedRequestError: needs Manage); " +
        "counting by peeking the dead-letter queues of the topology's subscriptions instead\n",
    );
    const peeked = JSON.parse(reader.stdout) as { entity: string; deadLetters: number; source: string }[];
    assert.deepEqual(peeked.map((r) => [r.entity, r.deadLetters, r.source])[0], ["orders/audit", 1, "peek"]);
    assert.equal(peeked.length, subscriptionKeys(topology).length);
    assert.equal(counts("orders/audit").locked, 0);
  });
});
