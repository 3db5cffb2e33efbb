#!/usr/bin/env node
// Entry for `npx sbworker`: runs the built output (production, and right after `npm ci`), or the
// TypeScript sources through tsx when there is no build, SBW_FROM_SOURCE=1, or a source file is
// newer than the build (a developer edited src/ since `npm ci`: running stale code would mislead).
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "main.js");
const sources = join(root, "src");

function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Only in a checkout with dev dependencies: the image and `npm ci --omit=dev` have no tsx. */
function buildIsStale() {
  if (!existsSync(sources)) return false;
  try {
    import.meta.resolve("tsx/esm/api");
  } catch {
    return false;
  }
  return newestUnder(sources) > statSync(built).mtimeMs;
}

if (existsSync(built) && process.env.SBW_FROM_SOURCE !== "1" && !buildIsStale()) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(sources, "main.ts")).href);
}
