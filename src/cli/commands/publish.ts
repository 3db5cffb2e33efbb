/** `sbworker publish <topic> <json>`: sends one message, validated against its contract. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createPublisher, isPublishError } from "../../publisher/index.js";
import { topology, type TopologyShape } from "../../topics/index.js";
import { clientOptions, createServiceBusClient } from "../../worker/client.js";
import type { ServiceBusConnection } from "../../worker/config.js";
import type { CliCommand, CliIo } from "../command.js";
import { UsageError } from "../command.js";
import { configFrom } from "./run.js";

const HELP = `usage: sbworker publish <topic> <json> [--subject S] [--session-id ID] [--message-id ID]

Sends to SERVICEBUS_CONNECTION_STRING / SERVICEBUS_NAMESPACE, else to the emulator that
npm start is running from this directory. --subject may be left out when the topic has one subject.
`;

/** Where `npm start` leaves the running emulator's connection string. */
export const EMULATOR_STATE_FILE = join(".tmp", "sbworker-emulator.json");

async function emulatorConnection(io: CliIo): Promise<ServiceBusConnection> {
  try {
    const state = JSON.parse(await readFile(join(io.cwd, EMULATOR_STATE_FILE), "utf8")) as {
      connectionString?: unknown;
    };
    if (typeof state.connectionString === "string") {
      return { kind: "connectionString", connectionString: state.connectionString };
    }
  } catch {
    // No state file: npm start is not running here; fall through to the usage error.
  }
  throw new UsageError("no Service Bus configured: set SERVICEBUS_CONNECTION_STRING or run npm start first");
}

export const publishCommand: CliCommand = {
  name: "publish",
  summary: "publish one message: publish <topic> <json> [--subject S] [--session-id ID] [--message-id ID]",
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        subject: { type: "string" },
        "session-id": { type: "string" },
        "message-id": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const [topicName, json] = positionals;
    if (!topicName || json === undefined || positionals.length !== 2)
      throw new UsageError("expected <topic> <json>");
    const topic = topology[topicName as keyof typeof topology] as
      (typeof topology)[keyof typeof topology] | undefined;
    if (!topic)
      throw new UsageError(`unknown topic "${topicName}" (known: ${Object.keys(topology).join(", ")})`);
    const subjects = Object.keys(topic.messages);
    const subject = values.subject ?? (subjects.length === 1 ? subjects[0] : undefined);
    if (!subject)
      throw new UsageError(`--subject is required for topic ${topicName} (one of ${subjects.join(", ")})`);
    let payload: unknown;
    try {
      payload = JSON.parse(json);
    } catch (error) {
      throw new UsageError(
        `<json> is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }

    const config = configFrom(io);
    const connection = config.connection ?? (await emulatorConnection(io));
    const client = await createServiceBusClient(connection, clientOptions(config));
    // Untyped on purpose: topic, subject and payload come from the command line and are checked at run time.
    const publisher = createPublisher<TopologyShape>({ client, topology });
    try {
      const sent = await publisher.publish(topicName, subject, payload, {
        ...(values["session-id"] ? { sessionId: values["session-id"] } : {}),
        ...(values["message-id"] ? { messageId: values["message-id"] } : {}),
      });
      io.stdout.write(`${JSON.stringify({ topic: topicName, subject, ...sent })}\n`);
      return 0;
    } catch (error) {
      if (isPublishError(error)) throw new UsageError(error.message);
      throw error;
    } finally {
      await publisher.close();
      await client.close();
    }
  },
};
