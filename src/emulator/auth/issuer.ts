/**
 * The emulator's local token issuer, standing in for Microsoft Entra ID: an RSA key kept next to
 * the TLS material (`issuer-key.pem`), and `mintEmulatorToken`, which signs RS256 JWTs with the
 * claims `--auth=entra` checks (audience, expiry, `roles`). `sbworker emulator token` and the test
 * TokenCredential both call it.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { parseDuration } from "../config/duration.js";
import { defaultTlsDir, ensureDir, readIfExists, writeAtomic } from "../tls/files.js";
import { signJwt } from "./jwt.js";
import type { JwtClaims } from "./jwt.js";

export const EMULATOR_ISSUER = "https://sbworker-emulator.local/";
/** The audience Entra ID puts in tokens for `https://servicebus.azure.net//.default`. */
export const SERVICE_BUS_AUDIENCE = "https://servicebus.azure.net";
export const ISSUER_KEY_FILE = "issuer-key.pem";

export type Right = "Manage" | "Send" | "Listen";
export const RIGHTS: readonly Right[] = ["Manage", "Send", "Listen"];

/** Loads the issuer key from `dir`, creating it on first use. */
export function loadIssuerKey(dir: string = defaultTlsDir()): KeyObject {
  const path = join(ensureDir(dir), ISSUER_KEY_FILE);
  const existing = readIfExists(path);
  if (existing !== undefined) return createPrivateKey(existing);
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeAtomic(path, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  // Another process may have won the race; everyone uses the file's key.
  return createPrivateKey(readIfExists(path)!);
}

/** `1h`, `30m`, `90s`, `2d`, a number of seconds, or an ISO-8601 duration (`PT1H`). */
export function parseTtl(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (m) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "s"]!;
    return Number(m[1]) * unit;
  }
  const d = parseDuration(text.trim());
  if (d.ok) return d.ms;
  throw new Error(`not a duration: "${text}" (use e.g. 1h, 30m, 90s or PT1H)`);
}

export interface MintOptions {
  /** One or more of Send, Listen, Manage (Manage implies the other two). */
  readonly roles: readonly Right[];
  /** Lifetime; default one hour. */
  readonly ttlMs?: number;
  /** Default `https://servicebus.azure.net`, what Entra ID issues for Service Bus. */
  readonly audience?: string;
  /** The issuer key; default: the one in `dir`. */
  readonly key?: KeyObject | string;
  /** Where the issuer key lives; default `~/.sbworker/emulator-tls`. */
  readonly dir?: string;
  /** Epoch ms the token is issued at; default now. */
  readonly now?: number;
  readonly subject?: string;
}

export interface MintedToken {
  readonly token: string;
  /** Epoch ms, as `AccessToken.expiresOnTimestamp`. */
  readonly expiresOnTimestamp: number;
}

export function mintEmulatorToken(o: MintOptions): MintedToken {
  for (const role of o.roles) {
    if (!RIGHTS.includes(role))
      throw new Error(`unknown role "${String(role)}" (use Send, Listen or Manage)`);
  }
  const now = o.now ?? Date.now();
  const exp = Math.floor((now + (o.ttlMs ?? 3_600_000)) / 1000);
  const key = o.key ?? loadIssuerKey(o.dir);
  const claims: JwtClaims = {
    aud: o.audience ?? SERVICE_BUS_AUDIENCE,
    iss: EMULATOR_ISSUER,
    sub: o.subject ?? "sbworker-emulator-test",
    oid: randomUUID(),
    iat: Math.floor(now / 1000),
    nbf: Math.floor(now / 1000) - 60,
    exp,
    roles: [...o.roles],
  };
  return { token: signJwt(claims, key, "sbworker-emulator"), expiresOnTimestamp: exp * 1000 };
}
