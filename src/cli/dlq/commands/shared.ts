/** Small pieces every dlq subcommand uses: the client's lifetime and JSON output. */
import type { ServiceBusClient } from "@azure/service-bus";
import type { CliIo } from "../../command.js";
import { closeWithin, dlqTimeouts, openClient } from "../connection.js";

/** Opens a client for `work` and always closes it (mocha runs without --exit; so do operators). */
export async function withClient<T>(
  io: CliIo,
  connectionString: string | undefined,
  work: (client: ServiceBusClient) => Promise<T>,
): Promise<T> {
  const ms = dlqTimeouts(io.env).closeTimeoutMs; // a bad value fails before anything opens
  const client = await openClient(io.env, connectionString);
  try {
    return await work(client);
  } finally {
    // Bounded: in a partition the close would wait for good and hold the command's error line.
    await closeWithin(client.close(), ms);
  }
}

/** JSON for machines: bigint as decimal strings, Dates as ISO strings. */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(
    `${JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`,
  );
}

export function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}
