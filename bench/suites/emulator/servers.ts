/**
 * The two servers the emulator suite compares, started the same way in-process or in a child:
 * the emulator with one plain queue, and the minimal no-broker rhea server.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";

import type * as EmulatorApi from "../../../src/emulator/index.js";
import { startMinimalServer } from "../../baseline/minimal-server.js";

export type ServerKind = "emulator" | "minimal";
export const SERVER_KINDS: readonly ServerKind[] = ["emulator", "minimal"];

/** The queue every measurement uses: Azure defaults (no TTL, 60 s lock, max delivery count 10). */
export const BENCH_QUEUE = "bench";

export const benchConfig = {
  UserConfig: {
    Namespaces: [{ Name: "sbemulatorns", Queues: [{ Name: BENCH_QUEUE, Properties: {} }], Topics: [] }],
    Logging: { Type: "Console" },
  },
};

/** A 1 KiB message body: the SDK JSON-encodes the string, so 1022 characters travel as 1024 bytes. */
export const PAYLOAD = "x".repeat(1022);
export const PAYLOAD_BYTES = Buffer.from(JSON.stringify(PAYLOAD));

type EmulatorModule = typeof EmulatorApi;

/**
 * The emulator under test: `src/emulator` unless BENCH_EMULATOR_MODULE names another module
 * (a file URL or path to an `index.ts` with the same API), e.g. a patched copy to A/B a fix.
 */
export function emulatorModuleUrl(): string {
  const override = process.env.BENCH_EMULATOR_MODULE;
  if (override === undefined || override === "")
    return new URL("../../../src/emulator/index.ts", import.meta.url).href;
  return override.startsWith("file:") ? override : pathToFileURL(path.resolve(override)).href;
}

export async function loadEmulator(): Promise<EmulatorModule> {
  return (await import(emulatorModuleUrl())) as EmulatorModule;
}

export interface RunningServer {
  readonly kind: ServerKind;
  readonly connectionString: string;
  /** Messages the server holds in the bench queue (active + locked); undefined for the minimal server. */
  queued(): number | undefined;
  close(): Promise<void>;
}

export async function startServer(kind: ServerKind): Promise<RunningServer> {
  if (kind === "minimal") {
    const s = await startMinimalServer({ deliveryBody: PAYLOAD_BYTES });
    return { kind, connectionString: s.connectionString, queued: () => undefined, close: () => s.close() };
  }
  const { startEmulator } = await loadEmulator();
  const e = await startEmulator({ config: benchConfig, port: 0 });
  return {
    kind,
    connectionString: e.connectionString,
    queued: () => {
      const q = e.snapshot().entities.find((x) => x.name === BENCH_QUEUE);
      return q === undefined ? undefined : q.active + q.locked;
    },
    close: () => e.close(),
  };
}
