/**
 * TLS material for AMQPS and HTTPS. Node 20 cannot create certificates, and shelling out to
 * `openssl` would make the emulator depend on a binary that Windows and slim images lack; so we
 * write the X.509 DER ourselves (der.ts) and sign it with node:crypto (ECDSA P-256, SHA-256).
 *
 * Layout of the directory (default `~/.sbworker/emulator-tls/`): `ca.pem` + `ca-key.pem`, a local
 * CA kept across runs (so `NODE_EXTRA_CA_CERTS=<dir>/ca.pem` stays valid), and `server.pem` +
 * `server-key.pem`, a server certificate issued by that CA for localhost, 127.0.0.1, ::1 and any
 * extra host names, re-issued when it is about to expire or lacks a needed name.
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import type { KeyObject } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import * as der from "./der.js";
import { defaultTlsDir, ensureDir, readIfExists, writeAtomic } from "./files.js";

export interface TlsMaterial {
  /** PEM private key and certificate (chain) the listeners serve. */
  readonly key: string;
  readonly cert: string;
  /** The CA file clients trust (`NODE_EXTRA_CA_CERTS`); undefined for a user-supplied certificate without `caOut`. */
  readonly caPath: string | undefined;
  readonly ca: string | undefined;
}

export interface TlsSetup {
  readonly dir?: string | undefined;
  /** A certificate and key of your own instead of generated ones. */
  readonly certPath?: string | undefined;
  readonly keyPath?: string | undefined;
  /** Also copy the CA certificate here. */
  readonly caOut?: string | undefined;
  /** Names the server certificate must cover besides localhost, 127.0.0.1 and ::1. */
  readonly hostnames?: readonly string[] | undefined;
}

const DAY = 86_400_000;
const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

interface Subject {
  readonly commonName: string;
}

function name(s: Subject): Buffer {
  const rdn = (type: string, value: string): Buffer =>
    der.set(der.sequence(der.oid(type), der.utf8String(value)));
  return der.sequence(rdn("2.5.4.10", "sbworker"), rdn("2.5.4.3", s.commonName));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** A KeyUsage BIT STRING from bit numbers (0 = digitalSignature, 5 = keyCertSign, 6 = cRLSign). */
function keyUsage(bits: readonly number[]): Buffer {
  let byte = 0;
  for (const b of bits) byte |= 0x80 >> b;
  const unused = Math.min(7, 7 - Math.max(...bits));
  return der.tlv(0x03, Buffer.from([unused, byte]));
}

export interface IssueOptions {
  readonly subject: Subject;
  readonly publicKey: KeyObject;
  readonly issuer: Subject;
  readonly issuerKey: KeyObject;
  readonly issuerKeyId: Buffer;
  readonly ca: boolean;
  readonly altNames?: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export function keyId(publicKey: KeyObject): Buffer {
  return createHash("sha1")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest();
}

/** Builds and signs one X.509 v3 certificate; returns it as PEM. */
export function issueCertificate(o: IssueOptions): string {
  const algorithm = der.sequence(der.oid(ECDSA_SHA256));
  const ski = keyId(o.publicKey);
  const extensions = [
    extension("2.5.29.19", true, o.ca ? der.sequence(der.boolean(true)) : der.sequence()),
    extension("2.5.29.15", true, keyUsage(o.ca ? [0, 5, 6] : [0])),
    extension("2.5.29.14", false, der.octetString(ski)),
    extension("2.5.29.35", false, der.sequence(der.implicitPrimitive(0, o.issuerKeyId))),
  ];
  if (!o.ca) {
    extensions.push(extension("2.5.29.37", false, der.sequence(der.oid("1.3.6.1.5.5.7.3.1"))));
    const names = (o.altNames ?? []).map((n) =>
      isIP(n) ? der.implicitPrimitive(7, der.ipBytes(n)) : der.implicitPrimitive(2, Buffer.from(n, "ascii")),
    );
    extensions.push(extension("2.5.29.17", false, der.sequence(...names)));
  }
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(serial),
    algorithm,
    name(o.issuer),
    der.sequence(der.time(o.notBefore), der.time(o.notAfter)),
    name(o.subject),
    o.publicKey.export({ type: "spki", format: "der" }),
    der.explicit(3, der.sequence(...extensions)),
  );
  const signature = sign("sha256", tbs, o.issuerKey); // ECDSA, DER-encoded (r, s)
  return der.pem("CERTIFICATE", der.sequence(tbs, algorithm, der.bitString(signature)));
}

const newKey = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const keyPem = (k: KeyObject): string => k.export({ type: "pkcs8", format: "pem" }).toString();

const CA_SUBJECT: Subject = { commonName: "sbworker emulator local CA" };

function usable(certPem: string | undefined, minValidMs: number): X509Certificate | undefined {
  if (certPem === undefined) return undefined;
  try {
    const c = new X509Certificate(certPem);
    return Date.parse(c.validTo) - Date.now() > minValidMs ? c : undefined;
  } catch {
    return undefined;
  }
}

function covers(c: X509Certificate, names: readonly string[]): boolean {
  return names.every((n) => (isIP(n) ? c.checkIP(n) !== undefined : c.checkHost(n) !== undefined));
}

/** Loads the CA and server certificate from the directory, creating or renewing what is needed. */
export function loadOrCreateTlsMaterial(setup: TlsSetup = {}): TlsMaterial {
  if (setup.certPath !== undefined || setup.keyPath !== undefined) {
    if (setup.certPath === undefined || setup.keyPath === undefined)
      throw new Error("--cert and --key go together");
    const cert = readFileSync(setup.certPath, "utf8");
    const key = readFileSync(setup.keyPath, "utf8");
    if (setup.caOut !== undefined) copyFileSync(setup.certPath, setup.caOut);
    return { key, cert, caPath: setup.caOut, ca: setup.caOut === undefined ? undefined : cert };
  }
  const dir = ensureDir(setup.dir ?? defaultTlsDir());
  const caPath = join(dir, "ca.pem");
  const caKeyPath = join(dir, "ca-key.pem");
  let caPem = readIfExists(caPath);
  let caKeyPem = readIfExists(caKeyPath);
  const now = Date.now();
  if (usable(caPem, 30 * DAY) === undefined || caKeyPem === undefined) {
    const { privateKey, publicKey } = newKey();
    caKeyPem = keyPem(privateKey);
    caPem = issueCertificate({
      subject: CA_SUBJECT,
      publicKey,
      issuer: CA_SUBJECT,
      issuerKey: privateKey,
      issuerKeyId: keyId(publicKey),
      ca: true,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 10 * 365 * DAY),
    });
    writeAtomic(caKeyPath, caKeyPem);
    writeAtomic(caPath, caPem, 0o644);
  }
  const ca = new X509Certificate(caPem!);
  const caKey = createPrivateKey(caKeyPem);
  const names = [...new Set(["localhost", "127.0.0.1", "::1", ...(setup.hostnames ?? [])])];
  const certPath = join(dir, "server.pem");
  const keyPath = join(dir, "server-key.pem");
  let cert = readIfExists(certPath);
  let key = readIfExists(keyPath);
  const current = usable(cert, DAY);
  if (
    current === undefined ||
    key === undefined ||
    !current.checkIssued(ca) ||
    !current.verify(ca.publicKey) ||
    !covers(current, names)
  ) {
    const { privateKey, publicKey } = newKey();
    key = keyPem(privateKey);
    cert = issueCertificate({
      subject: { commonName: names[0]! },
      publicKey,
      issuer: CA_SUBJECT,
      issuerKey: caKey,
      issuerKeyId: keyId(ca.publicKey),
      ca: false,
      altNames: names,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 397 * DAY),
    });
    writeAtomic(keyPath, key);
    writeAtomic(certPath, cert, 0o644);
  }
  if (setup.caOut !== undefined) writeAtomic(setup.caOut, caPem!, 0o644);
  return { key, cert: cert!, caPath, ca: caPem };
}
