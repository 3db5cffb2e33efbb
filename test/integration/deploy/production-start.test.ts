/**
 * The image's command, run the way the image runs it: the built output plus a clean
 * `npm ci --omit=dev` (no TypeScript, no tsx), started with the Dockerfile's CMD against Service
 * Bus (the emulator, in this process). It must become ready and exit 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DockerfileParser } from "dockerfile-ast";
import { CONSUMER_GROUPS } from "../../../src/deploy/groups.js";
import { groupTiming } from "../../../src/deploy/timing.js";
import { startEmulator, type Emulator } from "../../../src/emulator/index.js";
import { toEmulatorConfig } from "../../../src/topics/emulatorConfig.js";
import { topology } from "../../../src/topics/index.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..", "..");

/** The runtime stage's ENTRYPOINT and CMD, exec form. */
async function imageCommand(): Promise<{ entrypoint: string[]; cmd: string[] }> {
  const dockerfile = DockerfileParser.parse(await readFile(join(ROOT, "Dockerfile"), "utf8"));
  const json = (keyword: string): string[] => {
    const found = dockerfile.getInstructions().filter((i) => i.getKeyword() === keyword);
    return JSON.parse(found.at(-1)?.getArgumentsContent() ?? "[]") as string[];
  };
  return { entrypoint: json("ENTRYPOINT"), cmd: json("CMD") };
}

/** The shortest time Kubernetes gives any worker pod to stop. */
function minGraceSeconds(): number {
  return Math.min(...CONSUMER_GROUPS.map((g) => groupTiming(g).terminationGracePeriodSeconds));
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function status(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined; // not listening yet
  }
}

describe("production start (the image's command from a clean production install)", function () {
  this.timeout(120_000);
  let dir: string;
  let emulator: Emulator | undefined;

  before(async function () {
    this.timeout(180_000);
    dir = await mkdtemp(join(tmpdir(), "sbworker-production-"));
    // What the Dockerfile's build stage produces (`npm run build`); type checking is the
    // typecheck gate's job, so emit only.
    await run(process.execPath, [
      join(ROOT, "node_modules", "typescript", "bin", "tsc"),
      "-p",
      join(ROOT, "tsconfig.build.json"),
      "--outDir",
      join(dir, "dist"),
      "--noCheck",
    ]);
    for (const name of ["package.json", "package-lock.json", "bin", "scripts"]) {
      await cp(join(ROOT, name), join(dir, name), { recursive: true });
    }
    await run(
      "npm",
      ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"],
      {
        cwd: dir,
        env: { ...process.env, NODE_ENV: "production" },
      },
    );
    // As the Dockerfile does after its --ignore-scripts install (docs/reliability.md).
    await run(process.execPath, [join(dir, "scripts", "patch-rhea.mjs")], { cwd: dir });
  });

  after(async () => {
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("installs no dev dependency", async () => {
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
      dependencies: Record<string, string>;
    };
    const lock = JSON.parse(await readFile(join(dir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    // Some dev dependencies are also needed at run time (e.g. @types/node through protobufjs);
    // the lock file marks the ones only development needs.
    const devOnly = Object.keys(pkg.devDependencies).filter((n) => lock.packages[`node_modules/${n}`]?.dev);
    assert.ok(devOnly.includes("typescript") && devOnly.includes("tsx"));
    for (const name of devOnly) {
      await assert.rejects(readFile(join(dir, "node_modules", name, "package.json")), `${name} is installed`);
    }
    for (const name of Object.keys(pkg.dependencies)) {
      await readFile(join(dir, "node_modules", name, "package.json"));
    }
  });

  it("runs the worker against Service Bus, becomes ready, and exits 0 on SIGTERM", async () => {
    const { entrypoint, cmd } = await imageCommand();
    assert.match(entrypoint[0] ?? "", /tini|dumb-init/, "an init process forwards the signal in the image");
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
      scripts: { start: string };
    };
    assert.deepEqual(cmd, pkg.scripts.start.split(" "), "the image runs exactly `npm start`");

    emulator = await startEmulator({ port: 0, config: toEmulatorConfig(topology) });
    const port = await freePort();
    const [command = "", ...args] = cmd;
    const child = spawn(command === "node" ? process.execPath : command, args, {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        TMPDIR: dir,
        NODE_ENV: "production",
        SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
        SBW_HTTP_PORT: String(port),
        SBW_HTTP_HOST: "127.0.0.1",
        SBW_OUTBOX_DIR: join(dir, "outbox"),
        SBW_REPORTS_DIR: join(dir, "reports"),
        // A session consumer reports ready once its first accept returns (a session, or "none
        // available" after this timeout; 60 s by default).
        SBW_SERVICEBUS_TIMEOUT_MS: "5000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      const deadline = Date.now() + 30_000;
      let ready: number | undefined;
      while (ready !== 200 && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        ready = await status(`http://127.0.0.1:${port}/readyz`);
      }
      assert.equal(ready, 200, `/readyz never answered 200; output:\n${output.join("")}`);
      assert.equal(await status(`http://127.0.0.1:${port}/livez`), 200);
      assert.ok(
        !output.join("").includes("emulator started"),
        "production start must not start the emulator",
      );
      assert.ok(
        !output.join("").includes("disposition batching bug"),
        "the production install runs the patched rhea",
      );

      child.kill("SIGTERM");
      const stopping = Date.now();
      const [code, signal] = await exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, output.join(""));
      // The kubelet sends SIGKILL after terminationGracePeriodSeconds: the process must be gone by then.
      const elapsed = Date.now() - stopping;
      assert.ok(elapsed < minGraceSeconds() * 1000, `exited ${elapsed} ms after SIGTERM`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    }
  });
});
