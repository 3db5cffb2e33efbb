/**
 * Correlation filters: every field that is set must equal the message's system property
 * exactly (ordinal, case-sensitive), and every entry of `properties` must be present in the
 * application properties with an equal value of the same type. The conditions are ANDed.
 */

import type { SystemPropertyName } from "./properties.js";
import type { CorrelationFilter, FilterableMessage } from "./types.js";

const FIELDS: ReadonlyArray<readonly [keyof Omit<CorrelationFilter, "properties">, SystemPropertyName]> = [
  ["correlationId", "CorrelationId"],
  ["messageId", "MessageId"],
  ["to", "To"],
  ["replyTo", "ReplyTo"],
  ["label", "Label"],
  ["sessionId", "SessionId"],
  ["replyToSessionId", "ReplyToSessionId"],
  ["contentType", "ContentType"],
];

/**
 * False for a filter with no conditions at all: the service refuses to create one, so an
 * empty filter reaching here is a bug upstream and must not silently select everything.
 */
export function correlationMatches(filter: CorrelationFilter, msg: FilterableMessage): boolean {
  let conditions = 0;
  for (const [field, systemName] of FIELDS) {
    const expected = filter[field];
    if (expected === undefined) continue;
    conditions++;
    const actual = Object.hasOwn(msg.system, systemName) ? msg.system[systemName] : undefined;
    if (actual !== expected) return false;
  }
  const properties = filter.properties ?? {};
  for (const key of Object.keys(properties)) {
    conditions++;
    // Property keys match exactly here: the service looks them up in a dictionary.
    if (!Object.hasOwn(msg.user, key)) return false;
    const expected = properties[key];
    const actual = msg.user[key];
    if (expected === undefined || actual !== expected) return false;
  }
  return conditions > 0;
}
