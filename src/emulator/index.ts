/**
 * sbworker's embedded Service Bus emulator: an AMQP 1.0 server that the official
 * `@azure/service-bus` SDK talks to unchanged. Self-contained: imports nothing from the rest
 * of sbworker, so it can become its own package.
 */
export { startEmulator } from "./start.js";
export type {
  Emulator,
  EmulatorOptions,
  EmulatorSnapshot,
  EmulatorTlsOptions,
  EntitySnapshot,
} from "./api.js";
export {
  EMULATOR_ISSUER,
  loadIssuerKey,
  mintEmulatorToken,
  parseTtl,
  SERVICE_BUS_AUDIENCE,
} from "./auth/issuer.js";
export type { MintedToken, MintOptions, Right as EmulatorRight } from "./auth/issuer.js";
export { defaultTlsDir } from "./tls/files.js";
export { ManualClock, systemClock } from "./clock.js";
export type { Clock } from "./clock.js";
export type * from "./topology.js";
export {
  defaultTopology,
  EmulatorConfigError,
  isEmulatorConfigError,
  loadEmulatorConfigFile,
  parseEmulatorConfig,
  topologyToConfigJson,
} from "./config/index.js";
export { compileSqlFilter, isSqlSyntaxError, SqlSyntaxError } from "./sql/index.js";
export type { FilterableMessage, SqlFilter, SqlValue } from "./sql/index.js";
