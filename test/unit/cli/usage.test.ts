import assert from "node:assert/strict";
import { runCli } from "../../../src/cli/index.js";
import { captureIo } from "../../helpers/cli.js";

/** "0 success, 1 partial failure, 2 usage or connection error" (src/cli/command.ts). */
describe("cli: an unknown option is a usage error for every command", () => {
  const commands = [
    ["start"],
    ["run"],
    ["publish", "orders"],
    ["schedules"],
    ["topology", "emulator-config"],
    ["k8s"],
    ["emulator"],
    ["emulator", "token"],
    ["dlq", "peek", "jobs"],
  ];
  for (const command of commands) {
    it(`sbworker ${command.join(" ")} --bogus: exit 2, one line naming the option`, async () => {
      const { io, stdout, stderr } = captureIo();
      const code = await runCli([...command, "--bogus"], io);
      assert.equal(code, 2, stderr());
      assert.equal(stdout(), "");
      const lines = stderr().trimEnd().split("\n");
      assert.equal(lines.length, 1, stderr());
      assert.match(lines[0]!, new RegExp(`^sbworker ${command[0]}.*Unknown option '--bogus'`));
    });
  }
});

describe("cli: --help prints the command's usage and exits 0", () => {
  const commands = [
    ["start"],
    ["run"],
    ["publish"],
    ["schedules"],
    ["topology"],
    ["k8s"],
    ["emulator"],
    ["dlq", "list"],
    ["dlq", "peek"],
    ["dlq", "stats"],
    ["dlq", "export"],
    ["dlq", "replay"],
    ["dlq", "purge"],
    ["dlq", "send-file"],
  ];
  for (const command of commands) {
    it(`sbworker ${command.join(" ")} --help`, async () => {
      const { io, stdout, stderr } = captureIo();
      assert.equal(await runCli([...command, "--help"], io), 0, stderr());
      assert.match(stdout(), /usage/i);
      assert.equal(stderr(), "");
    });
  }
});
