/**
 * An emulator in a child process (./emulator.child.ts), for suites that measure client code (the
 * worker, the replay CLI) against the SDK: the broker runs on the other core, as a remote broker
 * would, and both sides of a comparison share it.
 */
import { fileURLToPath } from "node:url";

import type { EntitySnapshot } from "../../src/emulator/index.js";
import { Child } from "./child.js";

export type EmulatorChildRequest = { readonly type: "snapshot" };
export type EmulatorChildMessage =
  | { readonly type: "ready"; readonly connectionString: string }
  | { readonly type: "snapshot"; readonly entities: readonly EntitySnapshot[] };

const SCRIPT = fileURLToPath(new URL("./emulator.child.ts", import.meta.url));

export interface EmulatorProcess {
  readonly connectionString: string;
  /** The counts of one entity: `queue`, or `topic/subscription`. */
  entity(name: string): Promise<EntitySnapshot>;
  stop(): Promise<void>;
}

/** Starts the emulator with `config` (an emulator Config.json object) in a child process. */
export async function startEmulatorProcess(config: unknown): Promise<EmulatorProcess> {
  const child = Child.start<EmulatorChildMessage>(SCRIPT, { args: [JSON.stringify(config)] });
  let ready: EmulatorChildMessage;
  try {
    ready = await child.next();
  } catch (error) {
    await child.stop();
    throw error;
  }
  if (ready.type !== "ready") {
    await child.stop();
    throw new Error(`emulator child: unexpected ${JSON.stringify(ready)}`);
  }
  return {
    connectionString: ready.connectionString,
    entity: async (name) => {
      const answer = await child.request({ type: "snapshot" } satisfies EmulatorChildRequest);
      if (answer.type !== "snapshot") throw new Error(`emulator child: unexpected ${answer.type}`);
      const wanted = name.replace("/", "/Subscriptions/").toLowerCase();
      const found = answer.entities.find((e) => e.name.toLowerCase() === wanted);
      if (!found) throw new Error(`the emulator has no entity ${name}`);
      return found;
    },
    stop: () => child.stop(),
  };
}
