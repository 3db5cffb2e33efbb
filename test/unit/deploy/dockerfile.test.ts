/** Static checks of the Dockerfile (no Docker engine here): stages, user, init, dependencies, command. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { RUN_AS_ID } from "../../../src/deploy/names.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
};
const froms = dockerfile.getFROMs();
const runtimeStart = froms.at(-1)!.getRange().start.line;
/** Instructions of the last (runtime) stage. */
const runtime = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= runtimeStart);
const last = (keyword: string): Instruction | undefined =>
  runtime.filter((i) => i.getKeyword() === keyword).at(-1);
/** The exec-form array of a JSON instruction, e.g. CMD ["node", "x"]. */
const execForm = (i: Instruction | undefined): string[] => {
  assert.ok(i, "instruction present");
  const text = i.getArgumentsContent() ?? "";
  const parsed: unknown = JSON.parse(text);
  assert.ok(
    Array.isArray(parsed) && parsed.every((s) => typeof s === "string"),
    `${i.getKeyword()} uses the exec form`,
  );
  return parsed;
};

describe("Dockerfile", () => {
  it("builds in two stages at least, the runtime on a Node 22 slim image", () => {
    assert.ok(froms.length >= 2);
    const [image] = froms
      .at(-1)!
      .getExpandedArguments()
      .map((a) => a.getValue());
    assert.match(image ?? "", /^node:22(\.\d+){0,2}-[a-z]+-slim$|^node:22(\.\d+){0,2}-slim$/);
    assert.ok(froms.slice(0, -1).some((f) => f.getBuildStage() === "build"));
  });

  it("compiles in the build stage with every dependency and copies only dist/ from it", () => {
    const build = dockerfile
      .getInstructions()
      .filter((i) => i.getRange().start.line < runtimeStart && i.getKeyword() === "RUN")
      .map((i) => i.getArgumentsContent() ?? "");
    assert.ok(build.some((r) => /npm ci\b/.test(r) && !r.includes("--omit=dev")));
    assert.ok(build.some((r) => /npm run build\b/.test(r)));
    const copies = dockerfile.getCOPYs().filter((c) => c.getRange().start.line >= runtimeStart);
    const fromBuild = copies.filter((c) => c.getFromFlag()?.getValue() === "build");
    assert.deepEqual(
      fromBuild.map((c) => c.getArguments().map((a) => a.getValue())),
      [["/app/dist", "./dist"]],
    );
  });

  it("applies the rhea settlement fix after installing the runtime dependencies", () => {
    const runs = runtime.filter((i) => i.getKeyword() === "RUN").map((i) => i.getArgumentsContent() ?? "");
    const install = runs.findIndex((r) => /npm ci\b/.test(r));
    assert.ok(install >= 0);
    // The same RUN or a later one: --ignore-scripts skipped the postinstall that runs it elsewhere.
    assert.ok(
      runs.slice(install).some((r) => r.includes("node scripts/patch-rhea.mjs")),
      "scripts/patch-rhea.mjs runs after npm ci",
    );
    assert.equal(pkg.scripts.postinstall, "node scripts/patch-rhea.mjs");
  });

  it("installs no dev dependencies in the runtime stage", () => {
    const runs = runtime.filter((i) => i.getKeyword() === "RUN").map((i) => i.getArgumentsContent() ?? "");
    const installs = runs.filter((r) => /npm (ci|install|i)\b/.test(r));
    assert.ok(installs.length >= 1);
    for (const r of installs) assert.match(r, /npm ci --omit=dev/);
    const envs = runtime.filter((i) => i.getKeyword() === "ENV").map((i) => i.getArgumentsContent() ?? "");
    assert.ok(envs.some((e) => /NODE_ENV=production/.test(e)));
  });

  it("runs as a numeric non-root user, the one the manifests expect", () => {
    const user = last("USER")?.getArgumentsContent() ?? "";
    assert.match(user, /^\d+(:\d+)?$/);
    const [uid, gid] = user.split(":").map(Number);
    assert.ok(uid! > 0 && (gid === undefined || gid > 0));
    assert.equal(uid, RUN_AS_ID);
  });

  it("starts an init process that forwards signals, installed in the runtime stage", () => {
    const entrypoint = execForm(last("ENTRYPOINT"));
    assert.match(entrypoint[0] ?? "", /(^|\/)(tini|dumb-init)$/);
    const init = (entrypoint[0] ?? "").split("/").at(-1)!;
    const runs = runtime.filter((i) => i.getKeyword() === "RUN").map((i) => i.getArgumentsContent() ?? "");
    assert.ok(runs.some((r) => r.includes("apt-get install") && r.includes(init)));
  });

  it("keeps temporary files in /tmp (read-only root filesystem)", () => {
    const envs = runtime.filter((i) => i.getKeyword() === "ENV").map((i) => i.getArgumentsContent() ?? "");
    assert.ok(envs.some((e) => /TMPDIR=\/tmp\b/.test(e)));
  });

  it("runs exactly what `npm start` runs (no npm in between to swallow SIGTERM)", () => {
    assert.deepEqual(execForm(last("CMD")), pkg.scripts.start!.split(" "));
    assert.equal(pkg.scripts.start, "node bin/sbworker.js start");
  });

  it(".dockerignore keeps node_modules, .git and the tests out of the build context", () => {
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    for (const entry of ["node_modules", ".git", "test", "dist"]) assert.ok(ignored.includes(entry), entry);
  });
});
