import assert from "node:assert/strict";
import { join } from "node:path";
import { k8sDrift } from "../../../src/cli/commands/k8s.js";
import { HEADER, renderK8s } from "../../../src/deploy/render.js";

const K8S_DIR = join(import.meta.dirname, "..", "..", "..", "k8s");

describe("k8s/ drift", () => {
  it("the committed k8s/ files equal what the topology renders, byte for byte", async () => {
    const drift = await k8sDrift(K8S_DIR);
    const problems = [
      ...drift.changed.map((p) => `changed: ${p}`),
      ...drift.missing.map((p) => `missing: ${p}`),
      ...drift.stale.map((p) => `no longer rendered: ${p}`),
    ];
    assert.deepEqual(
      problems,
      [],
      `k8s/ is out of date with src/topics and src/deploy; run \`npx sbworker k8s render\` and commit k8s/\n${problems.join("\n")}`,
    );
  });

  it("renders deterministically, every file headed as generated", () => {
    const first = renderK8s();
    assert.deepEqual(renderK8s(), first);
    for (const file of first) {
      assert.ok(file.content.startsWith(`# ${HEADER.split("\n")[0]}\n`), `${file.path} lacks the header`);
      assert.ok(file.content.endsWith("\n") && !file.content.includes("\r"), file.path);
    }
  });

  it("renders a kustomize base and the dev and prod overlays", () => {
    const paths = renderK8s().map((f) => f.path);
    for (const p of [
      "base/kustomization.yaml",
      "overlays/dev/kustomization.yaml",
      "overlays/prod/kustomization.yaml",
    ]) {
      assert.ok(paths.includes(p), p);
    }
  });
});
