/**
 * E-mail transports. Production plugs in SMTP (./smtp.ts, `SBW_SMTP_URL`) or a provider API behind
 * `EmailTransport`; the default writes each e-mail as a `.eml` file into an outbox folder, which
 * is what development and tests want: nothing leaves the machine, and the result is easy to inspect.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface Email {
  /** Stable per notification: a transport uses it to make sending idempotent. */
  readonly id: string;
  readonly to: string;
  readonly from: string;
  readonly subject: string;
  readonly text: string;
}

export interface EmailTransport {
  send(email: Email, signal: AbortSignal): Promise<void>;
}

/** Writes `<dir>/<id>.eml` atomically (write a temp file, then rename); a resend overwrites. */
export function outboxTransport(dir: string): EmailTransport {
  return {
    async send(email, signal) {
      signal.throwIfAborted();
      await mkdir(dir, { recursive: true });
      const name = email.id.replace(/[^A-Za-z0-9._-]/g, "_");
      const text = [
        `Message-ID: <${name}@sbworker.local>`,
        `From: ${email.from}`,
        `To: ${email.to}`,
        `Subject: ${email.subject}`,
        "Content-Type: text/plain; charset=utf-8",
        "",
        email.text,
        "",
      ].join("\r\n");
      const target = join(dir, `${name}.eml`);
      await writeFile(`${target}.tmp`, text, { signal });
      await rename(`${target}.tmp`, target);
    },
  };
}
