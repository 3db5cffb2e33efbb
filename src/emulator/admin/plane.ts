/**
 * The management plane, wired once per emulator: token checks (auth/), the administration API
 * over plain HTTP and over TLS, and the TLS listener that also serves AMQPS. `startEmulator`
 * creates it before the AMQP server (which needs the authorizer) and listens after it.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { Socket } from "node:net";
import type { EmulatorOptions } from "../api.js";
import { Authorizer } from "../auth/authorizer.js";
import type { AuthMode } from "../auth/authorizer.js";
import { loadIssuerKey } from "../auth/issuer.js";
import type { Namespace } from "../broker/namespace.js";
import type { Clock } from "../clock.js";
import { AZURE_LIMITS, OFFICIAL_LIMITS } from "../config/limits.js";
import { loadOrCreateTlsMaterial } from "../tls/certs.js";
import type { TlsMaterial } from "../tls/certs.js";
import { defaultTlsDir } from "../tls/files.js";
import { TlsListener } from "../tls/listener.js";
import { AdminHttpServer } from "./http.js";
import { AdminApi } from "./router.js";
import { MetaStore } from "./state.js";

export interface PlaneListening {
  readonly httpPort: number | undefined;
  readonly tlsPort: number | undefined;
}

function issuerKeyFrom(text: string): KeyObject {
  return text.includes("PRIVATE KEY") ? createPrivateKey(text) : createPublicKey(text);
}

export class ManagementPlane {
  readonly authorizer: Authorizer;
  readonly tls: TlsMaterial | undefined;
  private readonly http: AdminHttpServer;
  private tlsListener: TlsListener | undefined;
  private closing = false;

  constructor(
    private readonly options: EmulatorOptions,
    namespace: Namespace,
    clock: Clock,
    private readonly host: string,
    private readonly log: (line: string) => void,
  ) {
    const dir = options.tlsDir ?? defaultTlsDir();
    const mode: AuthMode = options.auth ?? (options.sasKeys !== undefined ? "sas" : "any");
    const tlsOption = options.tls === true ? {} : options.tls === false ? undefined : options.tls;
    const extraHosts = host === "0.0.0.0" || host === "::" || host === "127.0.0.1" ? [] : [host];
    this.tls =
      tlsOption === undefined
        ? undefined
        : loadOrCreateTlsMaterial({
            ...tlsOption,
            dir,
            hostnames: [...extraHosts, ...(tlsOption.hostnames ?? [])],
          });
    const issuerKey =
      mode !== "entra"
        ? undefined
        : options.entraIssuerKey !== undefined
          ? issuerKeyFrom(options.entraIssuerKey)
          : loadIssuerKey(dir);
    this.authorizer = new Authorizer({
      mode,
      sasKeys: options.sasKeys,
      clock,
      issuerKey,
      localHosts: ["localhost", "127.0.0.1", "::1", ...extraHosts, ...(tlsOption?.hostnames ?? [])],
    });
    const startedAt = clock.now();
    const api = new AdminApi({
      namespace,
      clock,
      meta: new MetaStore(clock, startedAt),
      limits: options.strictOfficial === true ? OFFICIAL_LIMITS : AZURE_LIMITS,
      authorizer: this.authorizer,
      startedAt,
      ready: () => !this.closing,
      log,
    });
    this.http = new AdminHttpServer(api);
  }

  /** For the AMQP listener: connections that turn out to speak HTTP. */
  readonly onHttpSocket = (socket: Socket): void => this.http.acceptSocket(socket);

  /** Opens the HTTP port and, with TLS, the AMQPS/HTTPS port (`amqp` accepts AMQP sockets). */
  async listen(amqp: (socket: Socket) => void): Promise<PlaneListening> {
    const o = this.options;
    const httpPort = o.httpPort === false ? undefined : await this.http.listen(o.httpPort ?? 0, this.host);
    let tlsPort: number | undefined;
    if (this.tls !== undefined) {
      this.tlsListener = new TlsListener(this.tls, amqp, this.onHttpSocket, this.log);
      tlsPort = await this.tlsListener.listen(o.tlsPort ?? 0, this.host);
    }
    return { httpPort, tlsPort };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.tlsListener?.close(), this.http.close()]);
  }
}
