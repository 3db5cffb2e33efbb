import assert from "node:assert/strict";
import {
  EmulatorConfigError,
  isEmulatorConfigError,
  parseEmulatorConfig,
} from "../../../src/emulator/config/index.js";
import { officialWith } from "./fixtures.js";
import { NS, QP } from "./bad-cases.js";

describe("config: EmulatorConfigError", () => {
  it("gives the exact message for an out-of-range lock duration", () => {
    const config = officialWith([`${NS}/Queues/1`, { Name: "q2", Properties: { LockDuration: "PT10M" } }]);
    assert.throws(() => parseEmulatorConfig(config), {
      message:
        'Invalid emulator config at UserConfig.Namespaces[0].Queues[1].Properties.LockDuration: "PT10M" is out of range; allowed: an ISO-8601 duration from PT5S to PT5M',
    });
  });

  it("keeps the offending value and the allowed form on the error", () => {
    try {
      parseEmulatorConfig(officialWith([`${QP}/MaxDeliveryCount`, 0]));
      assert.fail("expected an error");
    } catch (e) {
      assert.ok(e instanceof EmulatorConfigError);
      assert.ok(e instanceof Error);
      assert.equal(e.name, "EmulatorConfigError");
      assert.equal(e.code, "InvalidEmulatorConfig");
      assert.equal(e.value, 0);
      assert.equal(e.allowed, "an integer from 1 to 2000");
      assert.equal(e.file, undefined);
    }
  });

  it("is recognized by isEmulatorConfigError, as are look-alikes from another copy of the module", () => {
    const real = new EmulatorConfigError({
      path: "UserConfig",
      value: 1,
      problem: "is odd",
      allowed: "even",
    });
    assert.equal(real.message, "Invalid emulator config at UserConfig: 1 is odd; allowed: even");
    assert.ok(isEmulatorConfigError(real));
    const lookAlike = Object.assign(new Error("x"), { code: "InvalidEmulatorConfig", path: "UserConfig" });
    assert.ok(isEmulatorConfigError(lookAlike));
    assert.ok(!isEmulatorConfigError(new Error("x")));
    assert.ok(!isEmulatorConfigError({ code: "InvalidEmulatorConfig", path: "UserConfig" }));
    assert.ok(!isEmulatorConfigError(undefined));
  });

  it("names the file when one is attached", () => {
    const e = new EmulatorConfigError({
      path: "UserConfig",
      value: undefined,
      problem: "is required",
      allowed: "an object",
    });
    const inFile = e.inFile("/etc/Config.json");
    assert.equal(
      inFile.message,
      "Invalid emulator config in /etc/Config.json at UserConfig: (missing) is required; allowed: an object",
    );
    assert.equal(inFile.path, "UserConfig");
  });

  it("shortens long values so the message stays readable", () => {
    const e = new EmulatorConfigError({
      path: "x",
      value: "a".repeat(500),
      problem: "is long",
      allowed: "short",
    });
    assert.ok(e.message.length < 200);
    assert.match(e.message, /a…" is long|a… is long/);
  });
});
