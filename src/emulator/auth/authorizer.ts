/**
 * Who may do what, for CBS put-token (AMQP) and for the administration API (HTTP).
 *
 * Modes:
 * - `any` (default without SAS keys): every token is accepted and grants every right, as
 *   Microsoft's emulator does.
 * - `sas` (default with SAS keys): SAS tokens must be signed by a known key; JWTs are refused.
 * - `entra`: JWTs must be signed by the emulator's issuer key, be unexpired, name Service Bus or
 *   this emulator as audience, and carry roles (Send, Listen, Manage; the Azure built-in role
 *   names work too). SAS tokens are still checked against the SAS keys (local auth stays on).
 *
 * A SAS key grants every right (our keys are all "RootManage"). Manage implies Send and Listen.
 * Refusals carry the reason; the AMQP layer answers 401 + `amqp:unauthorized-access`, which the
 * SDK reports as `UnauthorizedAccess`.
 */
import type { KeyObject } from "node:crypto";
import type { Clock } from "../clock.js";
import { SAS_TOKEN_TYPE, verifyToken } from "../amqp/cbs.js";
import type { PutToken } from "../amqp/cbs.js";
import { EMULATOR_ISSUER, RIGHTS, SERVICE_BUS_AUDIENCE } from "./issuer.js";
import type { Right } from "./issuer.js";
import { decodeJwt, verifyJwtSignature } from "./jwt.js";

export type { Right } from "./issuer.js";
export type AuthMode = "any" | "sas" | "entra";

export interface Grant {
  readonly rights: ReadonlySet<Right>;
  /** Epoch ms; Infinity when the token does not expire (or is not checked). */
  readonly expiresAt: number;
}

export type AuthVerdict =
  { readonly ok: true; readonly grant: Grant } | { readonly ok: false; readonly reason: string };

export interface AuthorizerOptions {
  readonly mode: AuthMode;
  /** Key name to key. Undefined: the emulator's default key (RootManageSharedAccessKey=SAS_KEY_VALUE). */
  readonly sasKeys: Readonly<Record<string, string>> | undefined;
  readonly clock: Clock;
  /** The issuer key (private or public); required for `entra`. */
  readonly issuerKey?: KeyObject | undefined;
  /** Host names a token audience may name besides servicebus.azure.net (any port). */
  readonly localHosts: readonly string[];
}

export const DEFAULT_SAS_KEYS: Readonly<Record<string, string>> = {
  RootManageSharedAccessKey: "SAS_KEY_VALUE",
};

const ALL: Grant = { rights: new Set(RIGHTS), expiresAt: Infinity };

const ROLE_RIGHTS: Readonly<Record<string, Right>> = {
  send: "Send",
  listen: "Listen",
  manage: "Manage",
  "azure service bus data sender": "Send",
  "azure service bus data receiver": "Listen",
  "azure service bus data owner": "Manage",
};

const fail = (reason: string): AuthVerdict => ({ ok: false, reason });

export function hasRight(grant: Grant, right: Right): boolean {
  return grant.rights.has(right) || grant.rights.has("Manage");
}

/** The right a `$management` operation needs. */
export function rightForOperation(operation: string): Right {
  switch (operation) {
    case "com.microsoft:schedule-message":
    case "com.microsoft:cancel-scheduled-message":
      return "Send";
    case "com.microsoft:enumerate-rules":
    case "com.microsoft:add-rule":
    case "com.microsoft:remove-rule":
      return "Manage";
    default:
      return "Listen"; // peek, renew-lock, receive-by-sequence-number, update-disposition, sessions
  }
}

export class Authorizer {
  private readonly keys: Readonly<Record<string, string>>;
  private readonly hosts: ReadonlySet<string>;

  constructor(private readonly o: AuthorizerOptions) {
    if (o.mode === "entra" && o.issuerKey === undefined) throw new Error("--auth=entra needs an issuer key");
    this.keys = o.sasKeys ?? DEFAULT_SAS_KEYS;
    this.hosts = new Set(o.localHosts.map(normalizeHost));
  }

  get mode(): AuthMode {
    return this.o.mode;
  }

  /** False in `any` mode: links then need no put-token at all. */
  get enforcing(): boolean {
    return this.o.mode !== "any";
  }

  /** A CBS put-token request. */
  cbs(req: PutToken): AuthVerdict {
    if (this.o.mode === "any") return { ok: true, grant: ALL };
    if (req.type === SAS_TOKEN_TYPE) return this.sas(req);
    if (req.type === "jwt") {
      if (this.o.mode !== "entra")
        return fail(
          "Token type 'jwt' is not accepted; this emulator checks SAS tokens (start it with --auth=entra).",
        );
      return this.jwt(req.token);
    }
    return fail(`Token type '${req.type}' is not accepted.`);
  }

  /** An administration API request; `url` is the request URL as the client addressed it. */
  http(authorization: string | undefined, url: string, need: Right): AuthVerdict {
    if (this.o.mode === "any") return { ok: true, grant: ALL };
    if (authorization === undefined || authorization.trim() === "")
      return fail("The request has no Authorization header.");
    let verdict: AuthVerdict;
    if (/^SharedAccessSignature /i.test(authorization)) {
      verdict = this.httpSas(authorization.trim(), url);
    } else if (/^Bearer /i.test(authorization)) {
      if (this.o.mode !== "entra")
        return fail(
          "Bearer tokens are not accepted; this emulator checks SAS tokens (start it with --auth=entra).",
        );
      verdict = this.jwt(authorization.trim().slice(7).trim());
    } else {
      return fail("The Authorization header is neither a SharedAccessSignature nor a Bearer token.");
    }
    if (verdict.ok && !hasRight(verdict.grant, need)) {
      return fail(`Unauthorized access. '${need}' claim(s) are required to perform this operation.`);
    }
    return verdict;
  }

  private sas(req: PutToken): AuthVerdict {
    const v = verifyToken(req, this.keys, this.o.clock);
    if (!v.ok) return v;
    const se = /[?&\s]se=(\d+)/.exec(` ${req.token.replace(/^SharedAccessSignature /, "")}`)?.[1];
    return {
      ok: true,
      grant: { rights: ALL.rights, expiresAt: se === undefined ? Infinity : Number(se) * 1000 },
    };
  }

  /** SAS on HTTP: the signed resource (`sr`) is the request URL or a prefix of its path. */
  private httpSas(header: string, url: string): AuthVerdict {
    const sr = /(?:^|[\s&])sr=([^&]*)/.exec(header)?.[1];
    if (sr === undefined) return fail("The SAS token must carry sr, sig, se and skn.");
    const resource = safeDecode(sr);
    const v = this.sas({ audience: resource, type: SAS_TOKEN_TYPE, token: header });
    if (!v.ok) return v;
    const path = (u: string): string =>
      u
        .replace(/^[a-z]+:\/\/[^/]*/i, "")
        .replace(/[?#].*$/, "")
        .replace(/\/+$/, "")
        .toLowerCase();
    const signed = path(resource);
    const requested = path(url);
    if (signed !== "" && signed !== requested && !requested.startsWith(`${signed}/`)) {
      return fail(`The SAS token's resource '${resource}' does not cover '${url}'.`);
    }
    return v;
  }

  private jwt(token: string): AuthVerdict {
    const jwt = decodeJwt(token);
    if (jwt === undefined) return fail("The token is not a JWT.");
    if (!verifyJwtSignature(jwt, this.o.issuerKey!)) {
      return fail(
        "The token is not signed by this emulator's issuer key (mint one with `sbworker emulator token`).",
      );
    }
    const c = jwt.claims;
    if (c.iss !== undefined && c.iss !== EMULATOR_ISSUER)
      return fail(`The token's issuer '${c.iss}' is not ${EMULATOR_ISSUER}.`);
    const now = this.o.clock.now();
    if (typeof c.exp !== "number") return fail("The token has no expiry (exp).");
    if (c.exp * 1000 <= now) return fail("The token has expired.");
    if (typeof c.nbf === "number" && c.nbf * 1000 > now) return fail("The token is not valid yet (nbf).");
    const auds = c.aud === undefined ? [] : typeof c.aud === "string" ? [c.aud] : c.aud;
    if (!auds.some((a) => this.audienceOk(a))) {
      return fail(
        `The token's audience '${auds.join(", ")}' is neither ${SERVICE_BUS_AUDIENCE} nor this emulator.`,
      );
    }
    const roles =
      c.roles === undefined ? [] : typeof c.roles === "string" ? c.roles.split(/[\s,]+/) : c.roles;
    const rights = new Set<Right>();
    for (const role of roles) {
      const right = ROLE_RIGHTS[String(role).toLowerCase()];
      if (right !== undefined) rights.add(right);
    }
    return { ok: true, grant: { rights, expiresAt: c.exp * 1000 } };
  }

  private audienceOk(aud: string): boolean {
    const trimmed = aud.replace(/\/+$/, "");
    if (trimmed.toLowerCase() === SERVICE_BUS_AUDIENCE) return true;
    try {
      const u = new URL(trimmed.includes("://") ? trimmed : `sb://${trimmed}`);
      return this.hosts.has(normalizeHost(u.hostname));
    } catch {
      return false;
    }
  }
}

function normalizeHost(h: string): string {
  return h.toLowerCase().replace(/^\[|\]$/g, "");
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
