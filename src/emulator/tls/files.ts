/**
 * Where the emulator keeps generated key material (TLS CA and server certificate, the local
 * token issuer's key): `~/.sbworker/emulator-tls/` unless a directory is given. Files are written
 * atomically (temp file + rename) so two emulators starting at once never read half a key.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export function defaultTlsDir(): string {
  return join(homedir(), ".sbworker", "emulator-tls");
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export function writeAtomic(path: string, content: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
}
