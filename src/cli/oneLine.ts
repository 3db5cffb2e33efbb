/** One-line reasons for what the commands print. */

/**
 * The error that says why. When the SDK's own retries run out it throws an AggregateError of every
 * attempt's error, with an empty message: the last attempt's is the one to show.
 */
export function lastAttempt(error: unknown): unknown {
  return error instanceof AggregateError && error.errors.length > 0 ? error.errors.at(-1) : error;
}

/** Any error's message on one line (its name when the message is empty). */
export function oneLine(error: unknown): string {
  const last = lastAttempt(error);
  const text = last instanceof Error ? last.message || last.name : String(last);
  return text.replace(/\s*\n\s*/g, " ").trim();
}
