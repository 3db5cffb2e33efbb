/** `compileSqlFilter`: parse and check once, then match messages with prebuilt closures. */

import { compilePredicate } from "./evaluate.js";
import { Parser } from "./parser.js";
import type { FilterableMessage, SqlFilter } from "./types.js";

/** Throws SqlSyntaxError when `expression` is not a valid Service Bus SQL filter. */
export function compileSqlFilter(expression: string): SqlFilter {
  const predicate = compilePredicate(new Parser(expression).parseFilter());
  return {
    expression,
    matches(msg: FilterableMessage): boolean {
      try {
        return predicate(msg) === true;
      } catch {
        // The closures are written not to throw; this guard keeps one odd message (say, a
        // getter that throws) from breaking delivery to every other subscription.
        return false;
      }
    },
  };
}
