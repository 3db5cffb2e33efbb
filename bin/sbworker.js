#!/usr/bin/env node
// Entry for `npx sbworker`: runs the built output when present (production, after `npm ci`),
// else the TypeScript sources through tsx (development, when dist/ is stale or absent).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "main.js");
if (existsSync(built) && process.env.SBW_FROM_SOURCE !== "1") {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", "main.ts")).href);
}
