/**
 * The production e-mail transport: SMTP through nodemailer, configured by one URL
 * (`SBW_SMTP_URL=smtps://user:password@smtp.example.com:465`, or `smtp://…:587` for STARTTLS).
 *
 * Failures are classified the way the worker's retry policy needs: an SMTP 4xx reply (greylisting,
 * mailbox busy, rate limits) and any connection or timeout error are transient, so the message is
 * retried with backoff; a 5xx reply (no such mailbox, policy rejection) is permanent, so it is
 * dead-lettered at once as `EmailRejected` instead of being retried into the same answer.
 *
 * The notification id becomes the Message-ID, so a resend after a crash (sent, but not yet
 * completed) carries the same Message-ID and receiving systems can drop the duplicate.
 */
import nodemailer from "nodemailer";
import { PermanentError, TransientError } from "../../worker/errors.js";
import type { Email, EmailTransport } from "./transport.js";

export interface SmtpTransport extends EmailTransport {
  /** Closes pooled connections. */
  close(): void;
}

export function smtpTransport(url: string): SmtpTransport {
  // Pooled: one connection reused across messages instead of a TLS handshake per e-mail.
  const pooled = new URL(url);
  pooled.searchParams.set("pool", "true");
  const transporter = nodemailer.createTransport(pooled.toString());
  return {
    async send(email: Email, signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      try {
        await transporter.sendMail({
          messageId: `<${email.id.replace(/[^A-Za-z0-9._-]/g, "_")}@sbworker>`,
          from: email.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
        });
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    close() {
      transporter.close();
    },
  };
}

/** 5xx: permanent (`EmailRejected`); 4xx, connection and timeout errors: transient. */
export function classifySmtpError(error: unknown): Error {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === "number" && code >= 500 && code < 600) {
    return new PermanentError(`SMTP server rejected the e-mail: ${message}`, {
      code: "EmailRejected",
      cause: error,
    });
  }
  return new TransientError(`sending the e-mail failed: ${message}`, { cause: error });
}
