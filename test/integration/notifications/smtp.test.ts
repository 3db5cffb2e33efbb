/**
 * The SMTP e-mail transport against a real SMTP server in this process (`smtp-server`): what it
 * sends, and how the server's answers map onto the worker's retry policy.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { smtpTransport } from "../../../src/handlers/notifications/smtp.js";
import { isPermanentError, isTransientError } from "../../../src/worker/errors.js";

interface Received {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
}

async function startSmtp(
  onRcpt?: SMTPServerOptions["onRcptTo"],
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    ...(onRcpt ? { onRcptTo: onRcpt } : {}),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What `work` rejected with (undefined when it resolved). */
const failureOf = (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  );

const email = {
  id: "order-42:confirmation",
  from: "shop@example.com",
  to: "ada@example.com",
  subject: "Your order 42",
  text: "Thanks for your order.",
};

describe("notifications: the SMTP transport", function () {
  this.timeout(20_000);

  it("sends the e-mail with the notification id as its Message-ID", async () => {
    const smtp = await startSmtp();
    const transport = smtpTransport(smtp.url);
    try {
      await transport.send(email, new AbortController().signal);
      assert.equal(smtp.received.length, 1);
      const [mail] = smtp.received;
      assert.equal(mail!.from, "shop@example.com");
      assert.deepEqual(mail!.to, ["ada@example.com"]);
      assert.match(mail!.raw, /^Message-ID: <order-42_confirmation@sbworker>\r$/im);
      assert.match(mail!.raw, /^Subject: Your order 42\r$/im);
      assert.match(mail!.raw, /Thanks for your order\./);
    } finally {
      transport.close();
      await smtp.close();
    }
  });

  it("a 5xx answer is permanent (dead-lettered as EmailRejected), a 4xx answer transient (retried)", async () => {
    const smtp = await startSmtp((address, _session, callback) => {
      const error = Object.assign(
        new Error(address.address.startsWith("nobody") ? "no such user" : "try later"),
        {
          responseCode: address.address.startsWith("nobody") ? 550 : 451,
        },
      );
      callback(error);
    });
    const transport = smtpTransport(smtp.url);
    try {
      const rejected = await failureOf(
        transport.send({ ...email, to: "nobody@example.com" }, new AbortController().signal),
      );
      assert.ok(isPermanentError(rejected), String(rejected));
      assert.equal(rejected.code, "EmailRejected");
      const deferred = await failureOf(
        transport.send({ ...email, to: "busy@example.com" }, new AbortController().signal),
      );
      assert.ok(isTransientError(deferred), String(deferred));
      assert.equal(smtp.received.length, 0);
    } finally {
      transport.close();
      await smtp.close();
    }
  });

  it("an unreachable server is transient, and an aborted signal sends nothing", async () => {
    const smtp = await startSmtp();
    const url = smtp.url;
    await smtp.close();
    const transport = smtpTransport(url);
    try {
      const down = await failureOf(transport.send(email, new AbortController().signal));
      assert.ok(isTransientError(down), String(down));
      const controller = new AbortController();
      controller.abort(new Error("draining"));
      await assert.rejects(transport.send(email, controller.signal), /draining/);
    } finally {
      transport.close();
    }
  });
});
