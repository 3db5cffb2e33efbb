/**
 * A local stand-in for Microsoft Entra ID's token endpoint, so a process running the production
 * credential code (`DefaultAzureCredential` → `WorkloadIdentityCredential`, what AKS workload
 * identity uses) gets emulator tokens without a line of test code in it.
 *
 * The child process gets the variables the AKS workload-identity webhook injects:
 * - `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE` (a Kubernetes service-account token; here a
 *   made-up one this endpoint checks byte for byte),
 * - `AZURE_AUTHORITY_HOST` = this server (HTTPS with the emulator's certificate, so the
 *   `NODE_EXTRA_CA_CERTS` that trusts the emulator trusts it too),
 * - `AZURE_TENANT_ID` = `adfs`. With a tenant GUID, MSAL first asks
 *   `login.microsoftonline.com/common/discovery/instance` whether the authority host is a known
 *   cloud, and only when that fails falls back to trusting it (seconds per token without network,
 *   an outbound call with it). For the AD FS tenant @azure/identity lists the authority as known
 *   (msal/utils.js `getKnownAuthorities`), so MSAL reads `/adfs/.well-known/openid-configuration`
 *   here and nothing else. The token request is the same client-assertion exchange either way.
 *
 * The exchange: `POST /adfs/oauth2/token` with `grant_type=client_credentials`, `client_id`,
 * `client_assertion_type=…jwt-bearer`, `client_assertion=<file content>` and
 * `scope=https://servicebus.azure.net//.default`; the answer is an emulator-signed JWT with the
 * roles registered for that client id.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

import { mintEmulatorToken, type EmulatorRight } from "../../src/emulator/index.js";

export const SERVICE_BUS_SCOPE = "https://servicebus.azure.net//.default";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface TokenExchange {
  readonly clientId: string;
  readonly scope: string;
  readonly granted: boolean;
}

interface Identity {
  readonly roles: readonly EmulatorRight[];
  readonly assertion: string;
}

export class LocalTokenEndpoint {
  /** Every token request, in order. */
  readonly exchanges: TokenExchange[] = [];
  private readonly identities = new Map<string, Identity>();

  private constructor(
    private readonly server: https.Server,
    /** The emulator's `tlsDir`: its certificate, its issuer key, and the federated token files. */
    private readonly tlsDir: string,
  ) {}

  /** Serves HTTPS on a free port with the certificate the emulator generated in `tlsDir`. */
  static async start(tlsDir: string): Promise<LocalTokenEndpoint> {
    const server = https.createServer({
      cert: readFileSync(join(tlsDir, "server.pem")),
      key: readFileSync(join(tlsDir, "server-key.pem")),
    });
    const endpoint = new LocalTokenEndpoint(server, tlsDir);
    server.on("request", (req, res) => endpoint.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return endpoint;
  }

  get authorityHost(): string {
    return `https://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * An identity (an app registration with a federated credential, in Entra terms) granted `roles`;
   * returns the environment the AKS webhook would give its pod.
   */
  identity(clientId: string, roles: readonly EmulatorRight[]): Record<string, string> {
    const claims = {
      iss: "https://kubernetes.default.svc",
      sub: `system:serviceaccount:sbworker:${clientId}`,
    };
    const assertion = [
      Buffer.from(JSON.stringify({ alg: "RS256", kid: "local" })).toString("base64url"),
      Buffer.from(JSON.stringify({ ...claims, jti: randomUUID() })).toString("base64url"),
      Buffer.from("not-checked-by-this-endpoint").toString("base64url"),
    ].join(".");
    const file = join(this.tlsDir, `${clientId}.federated-token`);
    writeFileSync(file, `${assertion}\n`);
    this.identities.set(clientId, { roles, assertion });
    return {
      AZURE_AUTHORITY_HOST: this.authorityHost,
      AZURE_TENANT_ID: "adfs",
      AZURE_CLIENT_ID: clientId,
      AZURE_FEDERATED_TOKEN_FILE: file,
    };
  }

  granted(clientId: string): number {
    return this.exchanges.filter((e) => e.clientId === clientId && e.granted).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "https://localhost").pathname;
      const base = `${this.authorityHost}/adfs`;
      if (req.method === "GET" && path === "/adfs/.well-known/openid-configuration") {
        this.json(res, 200, {
          issuer: base,
          authorization_endpoint: `${base}/oauth2/authorize`,
          token_endpoint: `${base}/oauth2/token`,
          jwks_uri: `${base}/discovery/keys`,
          end_session_endpoint: `${base}/oauth2/logout`,
        });
      } else if (req.method === "POST" && path === "/adfs/oauth2/token") {
        this.token(res, new URLSearchParams(body));
      } else {
        this.json(res, 404, { error: "not_found", error_description: `${req.method} ${path}` });
      }
    });
  }

  private token(res: ServerResponse, form: URLSearchParams): void {
    const clientId = form.get("client_id") ?? "";
    const scope = form.get("scope") ?? "";
    const identity = this.identities.get(clientId);
    const refuse = (error: string, description: string): void => {
      this.exchanges.push({ clientId, scope, granted: false });
      this.json(res, 400, { error, error_description: description });
    };
    if (form.get("grant_type") !== "client_credentials")
      return refuse("unsupported_grant_type", "expected client_credentials");
    if (identity === undefined) return refuse("unauthorized_client", `unknown client ${clientId}`);
    if (
      form.get("client_assertion_type") !== ASSERTION_TYPE ||
      form.get("client_assertion") !== identity.assertion
    )
      return refuse("invalid_client", "the client assertion is not this identity's federated token");
    if (scope !== SERVICE_BUS_SCOPE) return refuse("invalid_scope", `only ${SERVICE_BUS_SCOPE} is served`);
    const { token, expiresOnTimestamp } = mintEmulatorToken({
      roles: identity.roles,
      dir: this.tlsDir,
      subject: clientId,
    });
    this.exchanges.push({ clientId, scope, granted: true });
    const expiresIn = Math.floor((expiresOnTimestamp - Date.now()) / 1000);
    this.json(res, 200, {
      token_type: "Bearer",
      access_token: token,
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
    });
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
  }
}
