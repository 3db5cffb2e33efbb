/**
 * The administration client against the emulator. `ServiceBusAdministrationClient` 7.9.5 always
 * calls `https://<host:port>/...`; over plain HTTP a pipeline policy rewrites the scheme (and,
 * when given, the port) after signing. Over TLS no policy is needed: pass the CA through
 * `tlsOptions` in-process, or set NODE_EXTRA_CA_CERTS for a child process.
 */
import { ServiceBusAdministrationClient } from "@azure/service-bus";
import type { ServiceBusAdministrationClientOptions } from "@azure/service-bus";
import type { TokenCredential } from "@azure/identity";

import type { Emulator } from "../../src/emulator/index.js";

type PipelinePolicy = Parameters<ServiceBusAdministrationClient["pipeline"]["addPolicy"]>[0];

/** Rewrites `https://` to `http://` (and the port, when given) on every request, after auth. */
export function plainHttpPolicy(port?: number): PipelinePolicy {
  return {
    name: "sbworkerEmulatorPlainHttp",
    sendRequest(request, next) {
      const url = new URL(request.url);
      url.protocol = "http:";
      if (port !== undefined) url.port = String(port);
      request.url = url.toString();
      request.allowInsecureConnection = true;
      return next(request);
    },
  };
}

/** A connection-string admin client over plain HTTP on the emulator's HTTP port. */
export function plainAdminClient(emulator: Emulator): ServiceBusAdministrationClient {
  const admin = new ServiceBusAdministrationClient(emulator.connectionString);
  admin.pipeline.addPolicy(plainHttpPolicy(emulator.httpPort), { phase: "Sign", afterPolicies: [] });
  return admin;
}

/** A credential admin client over HTTPS on the TLS port, trusting the emulator's CA in-process. */
export function tlsAdminClient(
  emulator: Emulator,
  credential: TokenCredential,
  ca: string,
  options: ServiceBusAdministrationClientOptions = {},
): ServiceBusAdministrationClient {
  return new ServiceBusAdministrationClient(emulator.fullyQualifiedNamespace!, credential, {
    ...options,
    tlsOptions: { ca },
    retryOptions: { maxRetries: 0 },
  });
}
