import assert from "node:assert/strict";
import { startEmulator } from "../../../src/emulator/index.js";
import { occupiedPort } from "../../helpers/ports.js";

describe("emulator: a port in use", () => {
  const cases = [
    { listener: "AMQP", flag: "--port", options: (port: number) => ({ port }) },
    { listener: "HTTP", flag: "--http-port", options: (port: number) => ({ port: 0, httpPort: port }) },
  ];
  for (const c of cases) {
    it(`fails the ${c.listener} listener with code EADDRINUSE and names ${c.flag}`, async () => {
      const taken = await occupiedPort();
      try {
        await assert.rejects(
          startEmulator({ host: "127.0.0.1", ...c.options(taken.port) }),
          (error: Error & { code?: string }) => {
            assert.equal(error.code, "EADDRINUSE");
            assert.ok(error.message.includes(String(taken.port)), error.message);
            assert.ok(error.message.includes(c.flag), error.message);
            return true;
          },
        );
      } finally {
        await taken.close();
      }
    });
  }

  it("starts on the port once it is free (nothing is left half-bound by the failure)", async () => {
    const taken = await occupiedPort();
    await assert.rejects(startEmulator({ host: "127.0.0.1", port: 0, httpPort: taken.port }));
    await taken.close();
    const emulator = await startEmulator({ host: "127.0.0.1", port: 0, httpPort: taken.port });
    try {
      assert.equal(emulator.httpPort, taken.port);
    } finally {
      await emulator.close();
    }
  });
});
