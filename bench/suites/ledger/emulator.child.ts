/**
 * The emulator in a process of its own for the ledger suite (the broker is remote in production;
 * here it gets the other core). argv[2]: the emulator Config.json as JSON. Reports
 * `{ connectionString }` over IPC, then runs until the parent disconnects.
 */
import { startEmulator } from "../../../src/emulator/index.js";

const config = JSON.parse(process.argv[2] ?? "{}") as unknown;
const emulator = await startEmulator({ port: 0, config, httpPort: false });
process.send!({ connectionString: emulator.connectionString });
process.on("disconnect", () => {
  void emulator.close().then(() => process.exit(0));
});
