/**
 * Confirmation before replay and purge. On a terminal the operator types "y"; without a terminal
 * (CI, cron, a pipe) there is nobody to ask, so the command refuses unless `--yes` says the
 * caller already decided. `--dry-run` never asks: it changes nothing.
 */
import { createInterface } from "node:readline/promises";
import type { CliIo } from "../command.js";
import { DlqError } from "./errors.js";

export async function confirmOrRefuse(
  io: CliIo,
  options: { readonly yes: boolean; readonly question: string; readonly flagHint: string },
): Promise<void> {
  if (options.yes) return;
  const stdin = io.stdin;
  if (!stdin?.isTTY || !io.stdout.isTTY) {
    throw new DlqError(
      "NotConfirmed",
      `not a terminal, so nobody can confirm: pass --yes to ${options.flagHint} (or --dry-run to preview)`,
    );
  }
  const rl = createInterface({ input: stdin, output: io.stderr, terminal: true });
  try {
    const answer = await rl.question(`${options.question} [y/N] `, { signal: io.signal });
    if (!/^\s*y(es)?\s*$/i.test(answer))
      throw new DlqError("NotConfirmed", "not confirmed; nothing was changed");
  } catch (error) {
    if (error instanceof DlqError) throw error;
    throw new DlqError("NotConfirmed", "interrupted before confirmation; nothing was changed");
  } finally {
    rl.close();
  }
}
