/**
 * Claims-based security (`$cbs` put-token). By default any token is accepted, as Microsoft's
 * emulator does. With SAS keys configured, a SAS token must carry a known key name, a valid
 * HMAC-SHA256 signature, an expiry in the future and a resource that covers the audience;
 * otherwise the reply is 401 with `amqp:unauthorized-access` (the SDK's UnauthorizedAccess).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.js";

export interface PutToken {
  readonly audience: string;
  readonly type: string;
  readonly token: string;
}

export type TokenVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export const SAS_TOKEN_TYPE = "servicebus.windows.net:sastoken";

export function verifyToken(
  req: PutToken,
  sasKeys: Readonly<Record<string, string>> | undefined,
  clock: Clock,
): TokenVerdict {
  if (sasKeys === undefined) return { ok: true };
  if (req.type !== SAS_TOKEN_TYPE) {
    return {
      ok: false,
      reason: `Token type '${req.type}' is not accepted; this emulator checks SAS tokens.`,
    };
  }
  const prefix = "SharedAccessSignature ";
  if (!req.token.startsWith(prefix))
    return { ok: false, reason: "The token is not a SharedAccessSignature." };
  const fields = new Map<string, string>();
  for (const part of req.token.slice(prefix.length).split("&")) {
    const i = part.indexOf("=");
    if (i > 0) fields.set(part.slice(0, i), part.slice(i + 1));
  }
  const sr = fields.get("sr");
  const sig = fields.get("sig");
  const se = fields.get("se");
  const skn = fields.get("skn");
  if (sr === undefined || sig === undefined || se === undefined || skn === undefined) {
    return { ok: false, reason: "The SAS token must carry sr, sig, se and skn." };
  }
  const keyName = decodeURIComponent(skn);
  const key = sasKeys[keyName];
  if (key === undefined) return { ok: false, reason: `Unknown SharedAccessKeyName '${keyName}'.` };
  const expected = createHmac("sha256", Buffer.from(key, "utf8")).update(`${sr}\n${se}`).digest();
  const given = Buffer.from(decodeURIComponent(sig), "base64");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "The SAS token signature is invalid." };
  }
  if (Number(se) * 1000 <= clock.now()) return { ok: false, reason: "The SAS token has expired." };
  const resource = stripScheme(decodeURIComponent(sr)).toLowerCase().replace(/\/+$/, "");
  const audience = stripScheme(req.audience).toLowerCase();
  if (!(audience === resource || audience.startsWith(`${resource}/`))) {
    return {
      ok: false,
      reason: `The SAS token's resource '${decodeURIComponent(sr)}' does not cover '${req.audience}'.`,
    };
  }
  return { ok: true };
}

function stripScheme(uri: string): string {
  return uri.replace(/^[a-z]+:\/\//i, "");
}

/** The entity path an audience names: `sb://host:port/q/$management` becomes `q`. */
export function audiencePath(audience: string): string {
  return audience
    .replace(/^[a-z]+:\/\/[^/]*\/?/i, "")
    .replace(/\/\$management$/i, "")
    .replace(/\/\$deadletterqueue$/i, "")
    .replace(/\/\$transfer$/i, "")
    .toLowerCase();
}
