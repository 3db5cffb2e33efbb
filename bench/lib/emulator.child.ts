/**
 * The emulator in a process of its own (the broker is remote in production; here it gets a core
 * of its own, so the benchmark process holds only the client side). argv[2]: the emulator
 * Config.json as JSON. Reports `{ type: "ready", connectionString }` over IPC, answers
 * `{ type: "snapshot" }` with the entity counts, and runs until the parent disconnects.
 */
import { startEmulator } from "../../src/emulator/index.js";
import type { EmulatorChildMessage, EmulatorChildRequest } from "./emulatorChild.js";

const config = JSON.parse(process.argv[2] ?? "{}") as unknown;
const emulator = await startEmulator({ port: 0, config, httpPort: false });
const send = (m: EmulatorChildMessage): void => void process.send!(m);
send({ type: "ready", connectionString: emulator.connectionString });
process.on("message", (m: EmulatorChildRequest) => {
  if (m.type === "snapshot") send({ type: "snapshot", entities: emulator.snapshot().entities });
});
process.on("disconnect", () => {
  void emulator.close().then(() => process.exit(0));
});
