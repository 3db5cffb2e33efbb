/**
 * Subscription rules: a correlation or SQL filter plus an optional SQL action. SQL text is only
 * checked for presence here; the emulator compiles it at start-up with the SQL module.
 */
import type { CorrelationFilterSpec, FilterSpec, RuleSpec } from "../topology.js";
import { child, fail, get, isObject, listNames, readObject, readString, type JsonObject } from "./json.js";
import { CHILD_NAME_MAX, readName } from "./names.js";

const RULE_KEYS = ["Name", "Properties"] as const;
const RULE_PROPERTY_KEYS = ["FilterType", "CorrelationFilter", "SqlFilter", "Action"] as const;
const FILTER_TYPES = ["Correlation", "Sql"] as const;

/** Config.json field → CorrelationFilterSpec field, for the string-valued system properties. */
const CORRELATION_FIELDS = [
  ["ContentType", "contentType"],
  ["CorrelationId", "correlationId"],
  ["Label", "label"],
  ["MessageId", "messageId"],
  ["ReplyTo", "replyTo"],
  ["ReplyToSessionId", "replyToSessionId"],
  ["SessionId", "sessionId"],
  ["To", "to"],
] as const;
const CORRELATION_KEYS = [...CORRELATION_FIELDS.map(([key]) => key), "Properties"];

// Service Bus treats TrueFilter as the SQL filter `1=1` and FalseFilter as `1=0`; mapping them back
// lets topologyToConfigJson (which must write them as SQL) round-trip.
const TRUE_SQL = /^\s*1\s*=\s*1\s*$/;
const FALSE_SQL = /^\s*1\s*=\s*0\s*$/;

export function readRule(raw: unknown, path: string): RuleSpec {
  const obj = readObject(raw, path, "a rule object", RULE_KEYS);
  const name = readName(get(obj, "Name"), child(path, "Name"), CHILD_NAME_MAX);
  const propsPath = child(path, "Properties");
  const props = readObject(
    get(obj, "Properties"),
    propsPath,
    `an object with "FilterType" and its filter`,
    RULE_PROPERTY_KEYS,
  );

  const typePath = child(propsPath, "FilterType");
  const filterType = readString(get(props, "FilterType"), typePath, listNames(FILTER_TYPES));
  let filter: FilterSpec;
  if (filterType === "Correlation") {
    rejectOther(props, propsPath, "SqlFilter", filterType);
    filter = {
      kind: "correlation",
      correlation: readCorrelation(get(props, "CorrelationFilter"), child(propsPath, "CorrelationFilter")),
    };
  } else if (filterType === "Sql") {
    rejectOther(props, propsPath, "CorrelationFilter", filterType);
    const expression = readSqlObject(get(props, "SqlFilter"), child(propsPath, "SqlFilter"), "filter");
    filter = TRUE_SQL.test(expression)
      ? { kind: "true" }
      : FALSE_SQL.test(expression)
        ? { kind: "false" }
        : { kind: "sql", expression };
  } else {
    fail(typePath, filterType, "is not a filter type", listNames(FILTER_TYPES));
  }

  const rawAction = get(props, "Action");
  if (rawAction === undefined) return { name, filter };
  return {
    name,
    filter,
    action: { expression: readSqlObject(rawAction, child(propsPath, "Action"), "action") },
  };
}

/** A filter of the other type is a mistake (it would be ignored), so it is an error. */
function rejectOther(props: JsonObject, path: string, key: string, filterType: string): void {
  const value = get(props, key);
  if (value !== undefined) {
    fail(
      child(path, key),
      value,
      `is not allowed when FilterType is "${filterType}"`,
      `no ${key} with this FilterType`,
    );
  }
}

/** `{ "SqlExpression": "..." }`, the shape of both SqlFilter and Action. Parsed later, not here. */
function readSqlObject(value: unknown, path: string, role: "filter" | "action"): string {
  const allowed = `a non-empty SQL ${role} expression`;
  const obj = readObject(value, path, `an object with "SqlExpression": ${allowed}`, ["SqlExpression"]);
  const exprPath = child(path, "SqlExpression");
  const expression = readString(get(obj, "SqlExpression"), exprPath, allowed);
  if (expression.trim() === "") fail(exprPath, expression, "is empty", allowed);
  return expression;
}

function readCorrelation(value: unknown, path: string): CorrelationFilterSpec {
  const what = `an object with at least one of ${CORRELATION_KEYS.join(", ")}`;
  const obj = readObject(value, path, what, CORRELATION_KEYS);
  if (Object.keys(obj).length === 0) fail(path, obj, "has no fields", what);
  const spec: { -readonly [K in keyof CorrelationFilterSpec]: CorrelationFilterSpec[K] } = {};
  // Only present fields become keys, so a spec deep-equals its round trip through JSON.
  for (const [key, field] of CORRELATION_FIELDS) {
    const fieldValue = get(obj, key);
    if (fieldValue !== undefined) spec[field] = readString(fieldValue, child(path, key), "a string");
  }
  const props = get(obj, "Properties");
  if (props !== undefined) spec.properties = readApplicationProperties(props, child(path, "Properties"));
  return spec;
}

function readApplicationProperties(value: unknown, path: string): Record<string, string | number | boolean> {
  const allowed = "an object of at least one application property, each a string, number or boolean";
  if (!isObject(value)) fail(path, value, "is not an object", allowed);
  const entries = Object.entries(value);
  if (entries.length === 0) fail(path, value, "has no properties", allowed);
  for (const [key, v] of entries) {
    const ok =
      typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
    if (!ok) fail(child(path, key), v, "is not a string, number or boolean", "a string, number or boolean");
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays data, not a prototype.
  return Object.fromEntries(entries) as Record<string, string | number | boolean>;
}
