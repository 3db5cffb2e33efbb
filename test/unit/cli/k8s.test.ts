/** `sbworker k8s render [--out DIR] [--check]`: writes, checks and cleans the rendered manifests. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderK8s } from "../../../src/deploy/render.js";
import { cli, type CliRun } from "../../helpers/cli.js";

const k8s = (cwd: string, ...args: string[]): Promise<CliRun> => cli(["k8s", ...args], { cwd });

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

describe("sbworker k8s render", () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "sbworker-k8s-"))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("renders into --out, --check passes, then reports and repairs an edited and a stale file, keeping hand-written ones", async () => {
    const files = renderK8s();
    const first = await k8s(dir, "render", "--out", "out");
    assert.equal(first.code, 0, first.err);
    assert.equal(
      first.out,
      `rendered ${files.length} files into out (0 changed, ${files.length} new, 0 removed)\n`,
    );
    for (const f of files) assert.equal(await readFile(join(dir, "out", f.path), "utf8"), f.content);
    assert.deepEqual(await k8s(dir, "render", "--out", "out", "--check"), { code: 0, out: "", err: "" });

    const edited = files[0]!.path;
    const header = files[0]!.content.split("\n")[0]!;
    await writeFile(join(dir, "out", edited), `${files[0]!.content}# a hand edit\n`);
    await writeFile(join(dir, "out", "gone.yaml"), `${header}\nkind: ConfigMap\n`);
    await writeFile(join(dir, "out", "mine.yaml"), "kind: ConfigMap # written by hand\n");

    const check = await k8s(dir, "render", "--out", "out", "--check");
    assert.equal(check.code, 1);
    assert.equal(
      check.err,
      `sbworker k8s: ${edited} is out of date\nsbworker k8s: gone.yaml is out of date\nsbworker k8s: run npx sbworker k8s render\n`,
    );
    assert.ok(await exists(join(dir, "out", "gone.yaml")), "--check writes nothing");

    const repair = await k8s(dir, "render", "--out", "out");
    assert.equal(repair.out, `rendered ${files.length} files into out (1 changed, 0 new, 1 removed)\n`);
    assert.equal(await readFile(join(dir, "out", edited), "utf8"), files[0]!.content);
    assert.equal(
      await exists(join(dir, "out", "gone.yaml")),
      false,
      "a generated file no longer rendered is removed",
    );
    assert.ok(await exists(join(dir, "out", "mine.yaml")), "a file without the header is not ours to remove");
    assert.equal((await k8s(dir, "render", "--out", "out", "--check")).code, 0);
  });

  it("exits 2 with one line without the render verb", async () => {
    const run = await k8s(dir);
    assert.equal(run.code, 2);
    assert.equal(run.err, 'sbworker k8s: expected "k8s render"\n');
  });
});
