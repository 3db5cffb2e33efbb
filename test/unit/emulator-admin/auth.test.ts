import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

import { Authorizer, rightForOperation } from "../../../src/emulator/auth/authorizer.js";
import type { AuthMode } from "../../../src/emulator/auth/authorizer.js";
import { decodeJwt, signJwt } from "../../../src/emulator/auth/jwt.js";
import { ManualClock, mintEmulatorToken, parseTtl } from "../../../src/emulator/index.js";
import { emulatorCommand } from "../../../src/cli/commands/emulator.js";

const { privateKey: issuer } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const { privateKey: stranger } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));

function authorizer(mode: AuthMode, sasKeys?: Record<string, string>): Authorizer {
  return new Authorizer({
    mode,
    sasKeys,
    clock,
    issuerKey: issuer,
    localHosts: ["localhost", "127.0.0.1", "::1"],
  });
}

const jwt = (o: Partial<Parameters<typeof mintEmulatorToken>[0]> = {}): string =>
  mintEmulatorToken({ roles: ["Listen"], key: issuer, now: clock.now(), ...o }).token;

const cbs = (a: Authorizer, token: string, type = "jwt"): ReturnType<Authorizer["cbs"]> =>
  a.cbs({ audience: "sb://localhost:5671/q", type, token });

function rights(v: ReturnType<Authorizer["cbs"]>): string[] {
  assert.ok(v.ok, v.ok ? "" : v.reason);
  return [...v.grant.rights].sort();
}

describe("emulator auth: JWTs, roles and SAS on HTTP", () => {
  it("signs and decodes RS256 JWTs with the emulator's claims", () => {
    const decoded = decodeJwt(jwt({ roles: ["Send", "Listen"], ttlMs: 600_000 }))!;
    assert.equal(decoded.header.alg, "RS256");
    assert.equal(decoded.claims.aud, "https://servicebus.azure.net");
    assert.deepEqual(decoded.claims.roles, ["Send", "Listen"]);
    assert.equal(decoded.claims.exp, Math.floor(clock.now() / 1000) + 600);
    assert.equal(decodeJwt("not.a.jwt"), undefined);
    assert.throws(() => mintEmulatorToken({ roles: ["Admin" as "Send"], key: issuer }), /unknown role/);
  });

  it("accepts a valid token under --auth=entra and grants exactly its roles", () => {
    const a = authorizer("entra");
    assert.deepEqual(rights(cbs(a, jwt())), ["Listen"]);
    assert.deepEqual(rights(cbs(a, jwt({ roles: ["Send", "Manage"] }))), ["Manage", "Send"]);
    const azureRoles = signJwt(
      {
        aud: "https://servicebus.azure.net/",
        exp: clock.now() / 1000 + 60,
        roles: ["Azure Service Bus Data Sender"],
      },
      issuer,
    );
    assert.deepEqual(rights(cbs(a, azureRoles)), ["Send"]);
  });

  it("checks signature, issuer, expiry, not-before and audience", () => {
    const a = authorizer("entra");
    const refused = (token: string, why: RegExp): void => {
      const v = cbs(a, token);
      assert.equal(v.ok, false);
      assert.match(v.ok ? "" : v.reason, why);
    };
    refused(
      mintEmulatorToken({ roles: ["Manage"], key: stranger, now: clock.now() }).token,
      /not signed by this emulator/,
    );
    refused(jwt({ now: clock.now() - 7200_000 }), /expired/);
    refused(
      signJwt(
        { aud: "https://servicebus.azure.net", exp: clock.now() / 1000 + 60, nbf: clock.now() / 1000 + 30 },
        issuer,
      ),
      /not valid yet/,
    );
    refused(signJwt({ aud: "https://servicebus.azure.net" }, issuer), /no expiry/);
    refused(
      signJwt(
        { aud: "https://servicebus.azure.net", exp: clock.now() / 1000 + 60, iss: "https://evil/" },
        issuer,
      ),
      /issuer/,
    );
    refused(jwt({ audience: "https://vault.azure.net" }), /audience/);
    refused("garbage", /not a JWT/);
    for (const aud of ["sb://localhost:5671/", "https://127.0.0.1:5300", "localhost", "sb://[::1]:5671/q"]) {
      assert.ok(cbs(a, jwt({ audience: aud })).ok, aud);
    }
    clock.advance(3_600_000);
    refused(jwt({ now: clock.now() - 3_600_000 }), /expired/);
  });

  it("applies the mode: any accepts all, sas refuses JWTs, entra still checks SAS keys", () => {
    assert.deepEqual(rights(cbs(authorizer("any"), "whatever", "servicebus.windows.net:sastoken")), [
      "Listen",
      "Manage",
      "Send",
    ]);
    assert.match(JSON.stringify(cbs(authorizer("sas", { k: "v" }), jwt())), /not accepted/);
    const se = Math.floor(clock.now() / 1000) + 600;
    const sr = encodeURIComponent("sb://localhost:5671/q");
    const sig = (key: string): string =>
      encodeURIComponent(createHmac("sha256", key).update(`${sr}\n${se}`).digest("base64"));
    const sas = (key: string): string =>
      `SharedAccessSignature sr=${sr}&sig=${sig(key)}&se=${se}&skn=RootManageSharedAccessKey`;
    const entra = authorizer("entra");
    assert.deepEqual(rights(cbs(entra, sas("SAS_KEY_VALUE"), "servicebus.windows.net:sastoken")), [
      "Listen",
      "Manage",
      "Send",
    ]);
    assert.equal(cbs(entra, sas("wrong"), "servicebus.windows.net:sastoken").ok, false);
  });

  it("checks HTTP SAS signatures over the request URL, and Bearer roles", () => {
    const url = "https://localhost:5671/q1?api-version=2021-05";
    const se = Math.floor(clock.now() / 1000) + 300;
    const sign = (target: string, key = "secret"): string => {
      const sr = encodeURIComponent(target.toLowerCase()).toLowerCase();
      const sig = encodeURIComponent(createHmac("sha256", key).update(`${sr}\n${se}`).digest("base64"));
      return `SharedAccessSignature sig=${sig}&se=${se}&skn=k&sr=${sr}`;
    };
    const a = authorizer("sas", { k: "secret" });
    assert.ok(a.http(sign(url), url, "Manage").ok);
    assert.ok(
      a.http(sign("https://localhost:5671/"), url, "Manage").ok,
      "a namespace-wide signature covers every path",
    );
    assert.equal(a.http(sign(url, "wrong"), url, "Manage").ok, false);
    assert.equal(a.http(sign("https://localhost:5671/q2"), url, "Manage").ok, false);
    assert.equal(a.http(undefined, url, "Manage").ok, false);
    assert.equal(
      a.http(`Bearer ${jwt({ roles: ["Manage"] })}`, url, "Manage").ok,
      false,
      "sas mode refuses bearer tokens",
    );
    const e = authorizer("entra");
    assert.ok(e.http(`Bearer ${jwt({ roles: ["Manage"] })}`, url, "Manage").ok);
    assert.match(
      JSON.stringify(e.http(`Bearer ${jwt({ roles: ["Send", "Listen"] })}`, url, "Manage")),
      /'Manage' claim/,
    );
    assert.ok(authorizer("any").http(undefined, url, "Manage").ok);
  });

  it("maps management operations to rights", () => {
    assert.equal(rightForOperation("com.microsoft:schedule-message"), "Send");
    assert.equal(rightForOperation("com.microsoft:peek-message"), "Listen");
    assert.equal(rightForOperation("com.microsoft:update-disposition"), "Listen");
    assert.equal(rightForOperation("com.microsoft:add-rule"), "Manage");
  });

  it("parses token lifetimes", () => {
    assert.equal(parseTtl("1h"), 3_600_000);
    assert.equal(parseTtl("90s"), 90_000);
    assert.equal(parseTtl("30m"), 1_800_000);
    assert.equal(parseTtl("PT2H"), 7_200_000);
    assert.equal(parseTtl("120"), 120_000);
    assert.throws(() => parseTtl("soon"), /not a duration/);
  });

  it("`sbworker emulator token` prints a token the issuer in --tls-dir verifies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sbworker-token-"));
    try {
      let out = "";
      const stdout = new Writable({
        write(chunk: Buffer, _enc, cb) {
          out += chunk.toString();
          cb();
        },
      });
      const io = { signal: new AbortController().signal, stdout, stderr: stdout, env: {}, cwd: dir };
      const code = await emulatorCommand.run(
        ["token", "--role", "Listen", "--ttl", "10m", "--tls-dir", dir],
        io,
      );
      assert.equal(code, 0);
      const token = out.trim();
      const { loadIssuerKey } = await import("../../../src/emulator/index.js");
      const a = new Authorizer({
        mode: "entra",
        sasKeys: undefined,
        clock: new ManualClock(),
        issuerKey: loadIssuerKey(dir),
        localHosts: [],
      });
      assert.deepEqual(rights(a.cbs({ audience: "sb://x/q", type: "jwt", token })), ["Listen"]);
      await assert.rejects(
        emulatorCommand.run(["token", "--role", "Root", "--tls-dir", dir], io),
        /Send, Listen or Manage/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
