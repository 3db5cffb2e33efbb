/**
 * Compact JWTs signed with RS256 (RSASSA-PKCS1-v1_5 over SHA-256), the algorithm Microsoft Entra
 * ID uses, built on node:crypto only. Verification checks the signature and returns the claims;
 * what the claims must say (audience, expiry, roles) is the authorizer's business.
 */
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";

export interface JwtClaims {
  readonly aud?: string | readonly string[];
  readonly iss?: string;
  readonly sub?: string;
  readonly exp?: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly roles?: string | readonly string[];
  readonly [claim: string]: unknown;
}

export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: JwtClaims;
  readonly signingInput: string;
  readonly signature: Buffer;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

function json(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Splits and decodes a compact JWS without checking anything; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.trim().split(".");
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  const header = json(h);
  const claims = json(p);
  if (header === undefined || claims === undefined) return undefined;
  return { header, claims, signingInput: `${h}.${p}`, signature: Buffer.from(s, "base64url") };
}

export function signJwt(claims: JwtClaims, privateKey: KeyObject | string, kid?: string): string {
  const key = typeof privateKey === "string" ? createPrivateKey(privateKey) : privateKey;
  const header = { alg: "RS256", typ: "JWT", ...(kid === undefined ? {} : { kid }) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), key))}`;
}

/** True when the token is RS256 and signed by the key (a private key is reduced to its public half). */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject): boolean {
  if (jwt.header.alg !== "RS256") return false;
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  try {
    return verify("sha256", Buffer.from(jwt.signingInput), publicKey, jwt.signature);
  } catch {
    return false;
  }
}
