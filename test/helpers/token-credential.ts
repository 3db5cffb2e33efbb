/**
 * A tiny TokenCredential for tests against `--auth=entra`: it mints tokens with the emulator's
 * local issuer (the same `mintEmulatorToken` that `sbworker emulator token` prints), for the
 * roles given. It ignores the requested scopes; the token's audience is Service Bus's.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";

import { mintEmulatorToken } from "../../src/emulator/index.js";
import type { EmulatorRight } from "../../src/emulator/index.js";

export interface EmulatorCredentialOptions {
  /** Where the emulator keeps its issuer key (its `tlsDir`). */
  readonly dir?: string;
  /** Or the key itself (PEM). */
  readonly key?: string;
  readonly ttlMs?: number;
  readonly audience?: string;
}

export class EmulatorTokenCredential implements TokenCredential {
  /** How many tokens were handed out, to show the SDK asked. */
  issued = 0;

  constructor(
    private readonly roles: readonly EmulatorRight[],
    private readonly options: EmulatorCredentialOptions = {},
  ) {}

  getToken(): Promise<AccessToken> {
    this.issued += 1;
    const { token, expiresOnTimestamp } = mintEmulatorToken({ roles: this.roles, ...this.options });
    return Promise.resolve({ token, expiresOnTimestamp });
  }
}
