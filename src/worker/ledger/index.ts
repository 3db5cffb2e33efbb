/**
 * Choosing the ledger store: `SBW_LEDGER=redis` (the default when `REDIS_URL` is set; the
 * production choice, shared by every worker), `memory` (the default otherwise; one process only,
 * for development) or `off` (no deduplication: at-least-once, as without issue 4).
 */
import { MemoryLedgerStore } from "./memory.js";
import { RedisLedgerStore } from "./redis.js";
import type { LedgerStore } from "./types.js";

export type LedgerChoice =
  | { readonly kind: "off" }
  | { readonly kind: "memory" }
  | {
      readonly kind: "redis";
      readonly url: string;
      readonly prefix: string;
      /** How long one command may wait for Redis' answer (`SBW_LEDGER_TIMEOUT_MS`). */
      readonly commandTimeoutMs?: number;
    };

export async function openLedgerStore(
  choice: LedgerChoice,
  onError: (error: Error) => void,
): Promise<LedgerStore | undefined> {
  switch (choice.kind) {
    case "off":
      return undefined;
    case "memory":
      return new MemoryLedgerStore();
    case "redis":
      return RedisLedgerStore.connect({
        url: choice.url,
        prefix: choice.prefix,
        onError,
        ...(choice.commandTimeoutMs !== undefined ? { commandTimeoutMs: choice.commandTimeoutMs } : {}),
      });
  }
}

export { MemoryLedgerStore } from "./memory.js";
export { LedgerUnavailableError, RedisLedgerStore, redactUrl } from "./redis.js";
export * from "./types.js";
