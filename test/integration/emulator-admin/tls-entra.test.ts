import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { ServiceBusAdministrationClient, ServiceBusClient } from "@azure/service-bus";

import {
  configJson,
  EmulatorFixture,
  expectServiceBusError,
  FAST_RETRY,
  receiveOne,
} from "../../helpers/emulator.js";
import { plainAdminClient, tlsAdminClient } from "../../helpers/admin.js";
import { EmulatorTokenCredential } from "../../helpers/token-credential.js";
import { mintEmulatorToken } from "../../../src/emulator/index.js";
import { cli } from "../../helpers/cli.js";

/** The fields of @azure/core-rest-pipeline's RestError the tests read. */
interface RestError extends Error {
  readonly code?: string;
  readonly statusCode?: number;
}

const CHILD = fileURLToPath(new URL("./fixtures/credential-client.ts", import.meta.url));

interface ChildResult {
  readonly send: { ok: boolean; code?: string; message?: string };
  readonly receive: { ok: boolean; value?: { body: unknown; via: unknown } | null };
  readonly admin: { ok: boolean; value?: number; code?: string };
  readonly tokensIssued: number;
}

/** Runs the credential client in a child process that trusts only the emulator's CA. */
async function runChild(
  namespace: string,
  dir: string,
  caPath: string,
  roles: string,
  queue: string,
): Promise<ChildResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", CHILD, namespace, dir, roles, queue],
    { env: { ...process.env, NODE_EXTRA_CA_CERTS: caPath }, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as ChildResult;
}

/**
 * The documented way to reach a plain-TCP emulator with a credential object in-process
 * (servicebus-amqp.md §1.7): the namespace string smuggles `UseDevelopmentEmulator=true`.
 */
function plainCredentialNamespace(port: number): string {
  return `localhost:${port};UseDevelopmentEmulator=true;X=`;
}

describe("emulator: TLS and --auth=entra (official SDK, credential objects)", function () {
  this.timeout(90_000);
  let dir: string;
  let fx: EmulatorFixture;
  let ca: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sbworker-tls-"));
    fx = await EmulatorFixture.start({
      tls: true,
      tlsDir: dir,
      auth: "entra",
      config: configJson({
        queues: [{ Name: "secure" }, { Name: "plain" }],
        topics: [{ Name: "news", Subscriptions: [{ Name: "reader" }] }],
      }),
    });
    ca = readFileSync(fx.emulator.caPath!, "utf8");
  });

  after(async () => {
    await fx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves a certificate for localhost that the written CA file validates", async () => {
    assert.equal(fx.emulator.caPath, join(dir, "ca.pem"));
    const socket = tls.connect({
      host: "localhost",
      port: fx.emulator.tlsPort!,
      ca,
      servername: "localhost",
    });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    assert.equal(socket.authorized, true);
    socket.destroy();
    const health = await new Promise<number>((resolve, reject) => {
      void import("node:https").then((https) =>
        https
          .get({ host: "localhost", port: fx.emulator.tlsPort!, path: "/health", ca }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on("error", reject),
      );
    });
    assert.equal(health, 200);
  });

  it("runs ServiceBusClient(namespace, credential) over AMQPS with only NODE_EXTRA_CA_CERTS set", async () => {
    const r = await runChild(
      fx.emulator.fullyQualifiedNamespace!,
      dir,
      fx.emulator.caPath!,
      "Send,Listen,Manage",
      "secure",
    );
    assert.deepEqual(r.send, { ok: true });
    assert.deepEqual(r.receive.value, { body: "over AMQPS", via: "tls" });
    assert.deepEqual(r.admin, { ok: true, value: 0 });
    assert.ok(r.tokensIssued >= 1);
  });

  it("refuses a send with a Listen-only token (UnauthorizedAccess) but lets it receive", async () => {
    const r = await runChild(
      fx.emulator.fullyQualifiedNamespace!,
      dir,
      fx.emulator.caPath!,
      "Listen",
      "secure",
    );
    assert.equal(r.send.ok, false);
    assert.equal(r.send.code, "UnauthorizedAccess");
    assert.match(r.send.message ?? "", /'Send' claim\(s\) are required/);
    assert.deepEqual(r.receive, { ok: true, value: null });
    assert.equal(r.admin.ok, false);
    assert.equal(r.admin.code, "UnauthorizedRequestError");
  });

  it("checks roles per operation on the AMQP path (Send, Listen, Manage)", async () => {
    const ns = plainCredentialNamespace(fx.emulator.port);
    const open = (roles: ("Send" | "Listen" | "Manage")[]): ServiceBusClient =>
      new ServiceBusClient(ns, new EmulatorTokenCredential(roles, { dir }), { retryOptions: FAST_RETRY });
    const sendOnly = open(["Send"]);
    const listenOnly = open(["Listen"]);
    const owner = open(["Manage"]);
    try {
      await sendOnly.createSender("plain").sendMessages({ body: "allowed" });
      const scheduled = await sendOnly
        .createSender("plain")
        .scheduleMessages({ body: "later" }, new Date(Date.now() + 3_600_000));
      await sendOnly.createSender("plain").cancelScheduledMessages(scheduled);
      await expectServiceBusError(
        sendOnly.createReceiver("plain").receiveMessages(1, { maxWaitTimeInMs: 500 }),
        "UnauthorizedAccess",
      );
      await expectServiceBusError(
        listenOnly.createSender("plain").sendMessages({ body: "no" }),
        "UnauthorizedAccess",
      );
      const receiver = listenOnly.createReceiver("plain");
      assert.equal((await receiver.peekMessages(1)).length, 1);
      await receiver.completeMessage(await receiveOne(receiver));
      const ruleNames = async (client: ServiceBusClient): Promise<string[]> => {
        const names: string[] = [];
        for await (const rule of client.createRuleManager("news", "reader").listRules())
          names.push(rule.name);
        return names;
      };
      await expectServiceBusError(ruleNames(listenOnly), "UnauthorizedAccess");
      assert.deepEqual(await ruleNames(owner), ["$Default"]);
      await owner.createSender("plain").sendMessages({ body: "owner" });
      assert.equal(
        (await receiveOne(owner.createReceiver("plain", { receiveMode: "receiveAndDelete" }))).body,
        "owner",
      );
    } finally {
      await Promise.all([sendOnly.close(), listenOnly.close(), owner.close()]);
    }
  });

  it("refuses expired tokens, foreign signatures and foreign audiences at put-token", async () => {
    const ns = plainCredentialNamespace(fx.emulator.port);
    const withToken = (token: string): ServiceBusClient =>
      new ServiceBusClient(
        ns,
        { getToken: () => Promise.resolve({ token, expiresOnTimestamp: Date.now() + 60_000 }) },
        { retryOptions: FAST_RETRY },
      );
    const expired = mintEmulatorToken({
      roles: ["Manage"],
      dir,
      now: Date.now() - 2 * 3_600_000,
      ttlMs: 60_000,
    }).token;
    const otherDir = mkdtempSync(join(tmpdir(), "sbworker-other-issuer-"));
    const foreign = mintEmulatorToken({ roles: ["Manage"], dir: otherDir }).token;
    const wrongAudience = mintEmulatorToken({
      roles: ["Manage"],
      dir,
      audience: "https://storage.azure.com",
    }).token;
    for (const token of [expired, foreign, wrongAudience]) {
      const client = withToken(token);
      try {
        await expectServiceBusError(
          client.createSender("plain").sendMessages({ body: "x" }),
          "UnauthorizedAccess",
        );
      } finally {
        await client.close();
      }
    }
    rmSync(otherDir, { recursive: true, force: true });
    assert.equal(fx.entity("plain").active, 0);
  });

  it("accepts what `sbworker emulator token` prints, for its roles only; a bad --role or --ttl exits 2", async () => {
    const mint = (...args: string[]) => cli(["emulator", "token", ...args, "--tls-dir", dir], { cwd: dir });
    const json = await mint("--role", "Send", "--ttl", "10m", "--json");
    assert.equal(json.code, 0, json.err);
    const { token, expiresOnTimestamp } = JSON.parse(json.out) as {
      token: string;
      expiresOnTimestamp: number;
    };
    assert.ok(Math.abs(expiresOnTimestamp - (Date.now() + 10 * 60_000)) < 60_000, "10 minutes from now");
    const plain = await mint("--role", "Listen");
    assert.equal(plain.code, 0, plain.err);
    assert.match(plain.out, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, "the bare JWT on one line");

    const client = (jwt: string): ServiceBusClient =>
      new ServiceBusClient(
        plainCredentialNamespace(fx.emulator.port),
        { getToken: () => Promise.resolve({ token: jwt, expiresOnTimestamp: Date.now() + 60_000 }) },
        { retryOptions: FAST_RETRY },
      );
    const sender = client(token);
    const listener = client(plain.out.trim());
    try {
      await sender.createSender("plain").sendMessages({ body: "minted by the CLI" });
      await expectServiceBusError(
        listener.createSender("plain").sendMessages({ body: "x" }),
        "UnauthorizedAccess",
      );
      const got = await receiveOne(listener.createReceiver("plain", { receiveMode: "receiveAndDelete" }));
      assert.equal(got.body, "minted by the CLI");
    } finally {
      await sender.close();
      await listener.close();
    }

    const badRole = await mint("--role", "Owner");
    assert.equal(badRole.code, 2);
    assert.equal(badRole.err, 'sbworker emulator: --role expects Send, Listen or Manage, got "Owner"\n');
    const badTtl = await mint("--role", "Send", "--ttl", "soon");
    assert.equal(badTtl.code, 2);
    assert.match(badTtl.err, /^sbworker emulator: --ttl: .+\n$/);
  });

  it("serves the administration API over HTTPS to a Manage token and refuses others with 401", async () => {
    const admin = tlsAdminClient(fx.emulator, new EmulatorTokenCredential(["Manage"], { dir }), ca);
    await admin.createQueue("made-over-https");
    assert.equal((await admin.getQueueRuntimeProperties("made-over-https")).activeMessageCount, 0);
    const sender = tlsAdminClient(fx.emulator, new EmulatorTokenCredential(["Send"], { dir }), ca);
    let error: RestError | undefined;
    try {
      await sender.getQueue("made-over-https");
    } catch (e) {
      error = e as RestError;
    }
    assert.equal(error?.code, "UnauthorizedRequestError");
    assert.equal(error?.statusCode, 401);
  });

  it("still accepts the emulator's SAS key (local auth) and refuses a wrong one", async () => {
    const admin = plainAdminClient(fx.emulator);
    assert.equal((await admin.getQueue("secure")).name, "secure");
    const wrong = new ServiceBusAdministrationClient(
      fx.connectionString.replace(/SharedAccessKey=[^;]*/, "SharedAccessKey=wrong"),
    );
    const { plainHttpPolicy } = await import("../../helpers/admin.js");
    wrong.pipeline.addPolicy(plainHttpPolicy(fx.emulator.httpPort), { phase: "Sign" });
    await assert.rejects(wrong.getQueue("secure"), (e: RestError) => e.code === "UnauthorizedRequestError");
    const client = fx.client();
    await client.createSender("plain").sendMessages({ body: "sas" });
    assert.equal(
      (await receiveOne(client.createReceiver("plain", { receiveMode: "receiveAndDelete" }))).body,
      "sas",
    );
  });

  it("reuses the CA across restarts so NODE_EXTRA_CA_CERTS stays valid", async () => {
    const again = await EmulatorFixture.start({
      tls: true,
      tlsDir: dir,
      config: configJson({ queues: [{ Name: "q" }] }),
    });
    try {
      assert.equal(readFileSync(again.emulator.caPath!, "utf8"), ca);
    } finally {
      await again.close();
    }
  });
});
