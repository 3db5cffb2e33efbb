/**
 * The one error type of the SQL filter/action compiler. It is thrown only while compiling;
 * evaluating a compiled filter or action never throws. The message is a single line that
 * names the 0-based position and what was expected, because the CLI prints it as is.
 */

export type SqlSyntaxErrorCode = "SqlSyntaxError";

export class SqlSyntaxError extends Error {
  readonly code = "SqlSyntaxError";
  /** 0-based offset into `expression` (its length when the problem is the end of input). */
  readonly position: number;
  readonly expression: string;
  /** The problem without the location, e.g. `Expected ')' but found end of input`. */
  readonly problem: string;

  constructor(problem: string, position: number, expression: string) {
    super(`${problem} at position ${position} in ${quote(expression)}`);
    this.name = "SqlSyntaxError";
    this.problem = problem;
    this.position = position;
    this.expression = expression;
  }
}

/** Also matches an error from another copy of this module (duplicated packages), by its code. */
export function isSqlSyntaxError(e: unknown): e is SqlSyntaxError {
  if (e instanceof SqlSyntaxError) return true;
  if (!(e instanceof Error)) return false;
  const fields = e as Error & { code?: unknown; position?: unknown };
  return fields.code === "SqlSyntaxError" && typeof fields.position === "number";
}

const MAX_SHOWN = 200;

/** JSON quoting escapes newlines and quotes, which keeps the message on one line. */
function quote(expression: string): string {
  const shown = expression.length > MAX_SHOWN ? `${expression.slice(0, MAX_SHOWN - 1)}…` : expression;
  return JSON.stringify(shown);
}
