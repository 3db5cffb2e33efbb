/**
 * Service Bus SQL filters, SQL rule actions and correlation filters, self-contained (node
 * builtins only). Compile once with compileSqlFilter / compileSqlAction, then evaluate per
 * message; only compilation throws (SqlSyntaxError).
 */

export type { CorrelationFilter, FilterableMessage, SqlFilter, SqlRuleAction, SqlValue } from "./types.js";
export type { SqlSyntaxErrorCode } from "./errors.js";
export { SqlSyntaxError, isSqlSyntaxError } from "./errors.js";
export { compileSqlFilter } from "./filter.js";
export { compileSqlAction } from "./action.js";
export { correlationMatches } from "./correlation.js";
export type { SystemPropertyName } from "./properties.js";
export { SYSTEM_PROPERTIES, SETTABLE_SYSTEM_PROPERTIES } from "./properties.js";
