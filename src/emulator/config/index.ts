/** Loading, validating and writing the official Service Bus emulator's Config.json. */
export { EmulatorConfigError, isEmulatorConfigError } from "./errors.js";
export type { EmulatorConfigErrorCode, EmulatorConfigErrorInit } from "./errors.js";
export { defaultTopology, loadEmulatorConfigFile, LOGGING_TYPES, parseEmulatorConfig } from "./load.js";
export type { LoadConfigOptions, LoggingType } from "./load.js";
export { topologyToConfigJson } from "./to-json.js";
export type { EmulatorConfigJson, ToConfigJsonOptions } from "./to-json.js";
export { FOREVER_DURATION, formatDuration, parseDuration, TIMESPAN_MAX_TICKS } from "./duration.js";
export type { DurationParse, DurationProblem } from "./duration.js";
export { AZURE_LIMITS, OFFICIAL_LIMITS } from "./limits.js";
export type { ConfigLimits, DurationRange } from "./limits.js";
