/** One-line reasons for what the commands print. */
import { lastAttempt } from "../publisher/lastAttempt.js";

/** Any error's message on one line (its name when the message is empty). */
export function oneLine(error: unknown): string {
  const last = lastAttempt(error);
  const text = last instanceof Error ? last.message || last.name : String(last);
  return text.replace(/\s*\n\s*/g, " ").trim();
}
