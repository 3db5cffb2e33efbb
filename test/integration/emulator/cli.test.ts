/**
 * `sbworker emulator` as an operator runs it: it prints the connection string the SDK then uses,
 * serves the Config.json it was given with the SAS key it was given, stops on the shutdown
 * signal and frees its ports; bad flags and a busy port exit 2 with one line.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ServiceBusClient } from "@azure/service-bus";
import { runCli } from "../../../src/cli/index.js";
import { configJson, expectServiceBusError, FAST_RETRY } from "../../helpers/emulator.js";
import { occupiedPort } from "../../helpers/ports.js";

interface Running {
  readonly done: Promise<number>;
  readonly stop: () => void;
  /** The first stdout line (the connection string), once printed. */
  readonly printed: Promise<string>;
  readonly err: () => string;
}

function emulatorCli(args: readonly string[], cwd: string): Running {
  const controller = new AbortController();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = "";
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  let out = "";
  const printed = new Promise<string>((resolve) => {
    stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
  });
  const done = runCli(["emulator", ...args], { signal: controller.signal, stdout, stderr, env: {}, cwd });
  return {
    done,
    stop: () => controller.abort(),
    printed: Promise.race([printed, done.then(() => "")]),
    err: () => err,
  };
}

const portOf = (connectionString: string): number => Number(/sb:\/\/[^:]+:(\d+)/.exec(connectionString)?.[1]);

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

describe("sbworker emulator (the command)", function () {
  this.timeout(30_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sbworker-emulator-cli-"));
    await writeFile(join(dir, "Config.json"), JSON.stringify(configJson({ queues: [{ Name: "work" }] })));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("serves --config with --sas-key on the printed connection string, and stops on the signal", async () => {
    const run = emulatorCli(["--port", "0", "--config", "Config.json", "--sas-key", "app=s3cret"], dir);
    const connectionString = await run.printed;
    assert.match(
      connectionString,
      /^Endpoint=sb:\/\/127\.0\.0\.1:\d+;SharedAccessKeyName=app;SharedAccessKey=s3cret;UseDevelopmentEmulator=true;$/,
    );
    assert.match(run.err(), /^administration API: http:\/\/127\.0\.0\.1:\d+\/ \(GET \/health\)$/m);

    const client = new ServiceBusClient(connectionString, { retryOptions: FAST_RETRY });
    const wrong = new ServiceBusClient(connectionString.replace("s3cret", "guess"), {
      retryOptions: FAST_RETRY,
    });
    try {
      await client.createSender("work").sendMessages({ body: "from the CLI's emulator" });
      const [got] = await client
        .createReceiver("work", { receiveMode: "receiveAndDelete" })
        .receiveMessages(1, {
          maxWaitTimeInMs: 5_000,
        });
      assert.equal(got?.body, "from the CLI's emulator");
      await expectServiceBusError(
        wrong.createSender("work").sendMessages({ body: "x" }),
        "UnauthorizedAccess",
      );
    } finally {
      await client.close();
      await wrong.close();
    }

    run.stop();
    assert.equal(await run.done, 0);
    assert.ok(await refused(portOf(connectionString)), "the AMQP port is closed");
  });

  it("exits 2 with one line for a busy port, a missing config and bad flags", async () => {
    const taken = await occupiedPort();
    try {
      const cases: [string[], RegExp][] = [
        [["--port", String(taken.port), "--http-port", "0"], new RegExp(`${taken.port}.*--port`)],
        [["--port", "0", "--config", "missing.json"], /missing\.json/],
        [["--port", "70000"], /^--port expects a port number from 0 to 65535, got "70000"$/],
        [["--port", "0", "--auth", "kerberos"], /^--auth expects any, sas or entra, got "kerberos"$/],
        [["--port", "0", "--sas-key", "nokey"], /^--sas-key expects <name>=<key>, got "nokey"$/],
      ];
      for (const [args, message] of cases) {
        const run = emulatorCli(args, dir);
        assert.equal(await run.done, 2, args.join(" "));
        const lines = run.err().trimEnd().split("\n");
        assert.equal(lines.length, 1, run.err());
        assert.match(lines[0]!.replace(/^sbworker emulator: /, ""), message);
      }
    } finally {
      await taken.close();
    }
  });
});
