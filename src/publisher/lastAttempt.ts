/**
 * The error that says why a Service Bus call failed. When the SDK's own retries run out it throws
 * an AggregateError of every attempt's error, with an empty message and no code: the last
 * attempt's is the one to classify and to show. Imports nothing, so the process entry can use it
 * (through src/cli/oneLine.ts) before the SDK is loaded.
 */
export function lastAttempt(error: unknown): unknown {
  return error instanceof AggregateError && error.errors.length > 0 ? error.errors.at(-1) : error;
}
