/** What every CLI command receives and returns; commands never touch `process` directly. */
export interface CliIo {
  /** Aborted on the first SIGTERM/SIGINT: commands drain and return. */
  readonly signal: AbortSignal;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Standard input, for commands that ask for confirmation; absent in tests and CI. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface CliCommand {
  readonly name: string;
  /** One line for `sbworker help`. */
  readonly summary: string;
  /** Resolves to the process exit code: 0 success, 1 partial failure, 2 usage or connection error. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/** A usage error: the CLI prints its one-line message and exits 2. */
export class UsageError extends Error {
  readonly code = "UsageError";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function isUsageError(error: unknown): error is UsageError {
  return error instanceof UsageError;
}

/**
 * Node's `parseArgs` rejecting the command line (an unknown option, a missing value, an unexpected
 * positional): a usage error like any other, whichever command parsed it.
 */
export function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}
