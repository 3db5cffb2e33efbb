/**
 * `sbworker k8s render [--out DIR] [--check]`: writes the Kubernetes manifests rendered from the
 * topology (src/deploy) into `k8s/`, removing generated files that are no longer rendered.
 * `--check` writes nothing and exits 1 when the folder differs (for CI).
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { HEADER, renderK8s } from "../../deploy/render.js";
import type { CliCommand } from "../command.js";
import { UsageError } from "../command.js";

const HELP = `usage: sbworker k8s render [--out DIR] [--check]

Renders the kustomize base and the dev and prod overlays from src/topics and src/deploy into DIR
(default: k8s). --check compares instead of writing and exits 1 when they differ.
`;

const GENERATED_MARK = `# ${HEADER.split("\n")[0] ?? ""}`;

/** Generated files already in `dir` (those that start with the header), relative, `/`-separated. */
async function generatedFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(".yaml")) continue;
    const path = join(entry.parentPath, entry.name);
    const text = await readFile(path, "utf8");
    if (text.startsWith(GENERATED_MARK)) found.push(relative(dir, path).split(sep).join("/"));
  }
  return found;
}

export interface K8sDrift {
  readonly changed: string[];
  readonly missing: string[];
  readonly stale: string[];
}

/** What differs between the rendered files and `dir`. */
export async function k8sDrift(dir: string): Promise<K8sDrift> {
  const rendered = renderK8s();
  const drift: K8sDrift = { changed: [], missing: [], stale: [] };
  for (const file of rendered) {
    let text: string | undefined;
    try {
      text = await readFile(join(dir, file.path), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text === undefined) drift.missing.push(file.path);
    else if (text !== file.content) drift.changed.push(file.path);
  }
  const paths = new Set(rendered.map((f) => f.path));
  drift.stale.push(...(await generatedFiles(dir)).filter((p) => !paths.has(p)).sort());
  return drift;
}

export const k8sCommand: CliCommand = {
  name: "k8s",
  summary: "render the Kubernetes manifests (kustomize base and overlays) from the topology",
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: "string" },
        check: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals[0] !== "render" || positionals.length !== 1)
      throw new UsageError('expected "k8s render"');
    const dir = resolve(io.cwd, values.out ?? "k8s");
    const drift = await k8sDrift(dir);
    const differing = [...drift.changed, ...drift.missing, ...drift.stale];
    if (values.check) {
      for (const path of differing) io.stderr.write(`sbworker k8s: ${path} is out of date\n`);
      if (differing.length) io.stderr.write("sbworker k8s: run npx sbworker k8s render\n");
      return differing.length ? 1 : 0;
    }
    for (const file of renderK8s()) {
      if (!drift.changed.includes(file.path) && !drift.missing.includes(file.path)) continue;
      const path = join(dir, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
    }
    for (const path of drift.stale) await rm(join(dir, path));
    io.stdout.write(
      `rendered ${renderK8s().length} files into ${relative(io.cwd, dir) || "."} ` +
        `(${drift.changed.length} changed, ${drift.missing.length} new, ${drift.stale.length} removed)\n`,
    );
    return 0;
  },
};
