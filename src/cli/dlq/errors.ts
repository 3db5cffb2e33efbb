/**
 * The one error type of `sbworker dlq`. Every DlqError is "bad usage or connection": the command
 * prints its one-line message and exits 2. Failures of individual messages are not errors but
 * outcomes (see ./outcome.ts) and lead to exit 1.
 *
 * Codes:
 * - `BadUsage`: an option or argument is malformed or missing.
 * - `BadFile`: a file named by an option (journal, message-ids, export) cannot be read or parsed.
 * - `Connection`: the namespace cannot be reached or refused us (including missing rights).
 * - `EntityNotFound`: the queue, topic or subscription does not exist.
 * - `NotConfirmed`: the operator declined, or confirmation is impossible (no TTY, no `--yes`).
 * - `JournalMismatch`: `--resume` names a journal written for another entity or command.
 * - `RuleCheck`: the target subscription would not accept the replayed messages.
 */
import { isServiceBusError } from "@azure/service-bus";
import { lastAttempt } from "../../publisher/lastAttempt.js";
import { oneLine } from "../oneLine.js";

export type DlqErrorCode =
  "BadUsage" | "BadFile" | "Connection" | "EntityNotFound" | "NotConfirmed" | "JournalMismatch" | "RuleCheck";

export class DlqError extends Error {
  readonly code: DlqErrorCode;
  constructor(code: DlqErrorCode, message: string, options?: { cause?: unknown }) {
    // The CLI prints exactly one line, so newlines from nested messages are folded.
    super(message.replace(/\s*\n\s*/g, " "), options);
    this.name = "DlqError";
    this.code = code;
  }
}

export function isDlqError(error: unknown): error is DlqError {
  return error instanceof DlqError;
}

/**
 * Maps an SDK error raised while opening or scanning an entity (not while handling one message)
 * to a DlqError, so it exits 2 with a line that names the entity.
 */
export function setupError(error: unknown, what: string): DlqError {
  if (isDlqError(error)) return error;
  const last = lastAttempt(error);
  if (isServiceBusError(last)) {
    if (last.code === "MessagingEntityNotFound")
      return new DlqError("EntityNotFound", `${what}: not found`, { cause: error });
    if (last.code === "UnauthorizedAccess")
      return new DlqError("Connection", `${what}: access denied (${oneLine(last)})`, { cause: error });
    return new DlqError("Connection", `${what}: ${last.code}: ${oneLine(last)}`, { cause: error });
  }
  return new DlqError("Connection", `${what}: ${oneLine(error)}`, { cause: error });
}
