import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { integer, ipBytes, oid, time } from "../../../src/emulator/tls/der.js";
import { loadOrCreateTlsMaterial } from "../../../src/emulator/tls/certs.js";

describe("emulator TLS: DER writer and generated certificates", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sbworker-certs-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("encodes DER primitives", () => {
    assert.equal(oid("1.2.840.10045.4.3.2").toString("hex"), "06082a8648ce3d040302");
    assert.equal(integer(Buffer.from([0x80])).toString("hex"), "02020080");
    assert.equal(integer(Buffer.from([0, 0, 5])).toString("hex"), "020105");
    assert.equal(time(new Date("2030-01-02T03:04:05Z")).toString("latin1").slice(2), "300102030405Z");
    assert.equal(time(new Date("2051-01-02T03:04:05Z"))[0], 0x18);
    assert.equal(ipBytes("127.0.0.1").toString("hex"), "7f000001");
    assert.equal(ipBytes("::1").toString("hex"), "00000000000000000000000000000001");
    assert.throws(() => ipBytes("1::2::3"));
  });

  it("issues a CA and a server certificate for localhost, 127.0.0.1 and ::1 that OpenSSL accepts", () => {
    const m = loadOrCreateTlsMaterial({ dir, hostnames: ["sb.test"] });
    const ca = new X509Certificate(m.ca!);
    const cert = new X509Certificate(m.cert);
    assert.equal(ca.ca, true);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(ca));
    assert.ok(cert.verify(ca.publicKey));
    assert.ok(ca.verify(ca.publicKey), "the CA is self-signed");
    assert.equal(cert.checkHost("localhost"), "localhost");
    assert.equal(cert.checkHost("sb.test"), "sb.test");
    assert.ok(cert.checkIP("127.0.0.1"));
    assert.ok(cert.checkIP("::1"));
    assert.equal(cert.checkHost("example.com"), undefined);
    assert.match(cert.keyUsage?.join(",") ?? "", /1\.3\.6\.1\.5\.5\.7\.3\.1/);
    assert.equal(readFileSync(join(dir, "ca.pem"), "utf8"), m.ca);
  });

  it("keeps the CA and re-issues the server certificate only when a name is missing", () => {
    const first = loadOrCreateTlsMaterial({ dir });
    const second = loadOrCreateTlsMaterial({ dir });
    assert.equal(second.cert, first.cert);
    const third = loadOrCreateTlsMaterial({ dir, hostnames: ["other.test"], caOut: join(dir, "copy.pem") });
    assert.equal(third.ca, first.ca);
    assert.notEqual(third.cert, first.cert);
    assert.equal(readFileSync(join(dir, "copy.pem"), "utf8"), first.ca);
  });
});
