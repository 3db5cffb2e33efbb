/**
 * Loads the official emulator's Config.json into our normalized Topology. Validation follows
 * Microsoft's Config-schema.json, with real-Azure ranges by default and the official emulator's
 * limits under `strictOfficial`; the first problem found is thrown as an EmulatorConfigError.
 */
import { readFile } from "node:fs/promises";
import type { Topology } from "../topology.js";
import { readEntityName, readQueue, readTopic } from "./entities.js";
import { EmulatorConfigError } from "./errors.js";
import { child, fail, get, item, listNames, readArray, readObject, readString, ROOT_PATH } from "./json.js";
import { CHILD_NAME_MAX, NameScope, readName } from "./names.js";
import { AZURE_LIMITS, OFFICIAL_LIMITS, type ConfigLimits } from "./limits.js";

export interface LoadConfigOptions {
  /**
   * Enforce the official emulator's limits (MaxDeliveryCount ≤ 10, TTL 5 min..1 h, 50 entities,
   * namespace `sbemulatorns`, 256 KB messages) and use its defaults, instead of real Azure's.
   */
  readonly strictOfficial?: boolean;
}

export const LOGGING_TYPES = ["File", "Console", "File,Console", "Console,File"] as const;
export type LoggingType = (typeof LOGGING_TYPES)[number];

// "$schema" lets editors validate the file against Microsoft's schema; it carries no config.
const ROOT_KEYS = ["UserConfig", "$schema"] as const;
const USER_KEYS = ["Namespaces", "Logging"] as const;
const NAMESPACE_KEYS = ["Name", "Queues", "Topics"] as const;

export function parseEmulatorConfig(json: unknown, options: LoadConfigOptions = {}): Topology {
  const limits = options.strictOfficial === true ? OFFICIAL_LIMITS : AZURE_LIMITS;
  const root = readObject(json, ROOT_PATH, `an object with "UserConfig"`, ROOT_KEYS);
  const user = readObject(
    get(root, "UserConfig"),
    "UserConfig",
    `an object with "Namespaces" and "Logging"`,
    USER_KEYS,
  );

  const nsPath = "UserConfig.Namespaces";
  const nsWhat = "an array of exactly one namespace";
  const namespaces = readArray(get(user, "Namespaces"), nsPath, nsWhat);
  if (namespaces.length !== 1) fail(nsPath, namespaces, `has ${namespaces.length} namespaces`, nsWhat);
  const topology = readNamespace(namespaces[0], item(nsPath, 0), limits);

  readLogging(get(user, "Logging"), "UserConfig.Logging");
  return topology;
}

/** Reads and parses a Config.json file; every failure, including I/O and JSON syntax, names the file. */
export async function loadEmulatorConfigFile(path: string, options?: LoadConfigOptions): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new EmulatorConfigError({
      path: ROOT_PATH,
      value: path,
      problem: `cannot be read (${e instanceof Error ? e.message : String(e)})`,
      allowed: "a readable Config.json file",
      file: path,
      cause: e,
    });
  }
  // Editors on Windows often save UTF-8 with a byte-order mark, which JSON.parse rejects.
  const body = text.replace(/^\uFEFF/, "");
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    throw new EmulatorConfigError({
      path: ROOT_PATH,
      value: syntaxErrorDetail(e, body),
      problem: "is a JSON syntax error",
      allowed: "a JSON document (no comments or trailing commas)",
      file: path,
      cause: e,
    });
  }
  try {
    return parseEmulatorConfig(json, options);
  } catch (e) {
    if (e instanceof EmulatorConfigError) throw e.inFile(path);
    throw e;
  }
}

/**
 * The topology `npm start` serves without a Config.json: the entity names and settings of the
 * official emulator's default file, but subscription.1 keeps the `$Default` (match-all) rule so
 * that anything sent to topic.1 can be received.
 */
export function defaultTopology(): Topology {
  const receivable = {
    DeadLetteringOnMessageExpiration: false,
    DefaultMessageTimeToLive: "PT1H",
    LockDuration: "PT1M",
    MaxDeliveryCount: 3,
    ForwardDeadLetteredMessagesTo: "",
    ForwardTo: "",
    RequiresSession: false,
  };
  const dedup = { DuplicateDetectionHistoryTimeWindow: "PT20S", RequiresDuplicateDetection: false };
  return parseEmulatorConfig({
    UserConfig: {
      Namespaces: [
        {
          Name: "sbemulatorns",
          Queues: [{ Name: "queue.1", Properties: { ...receivable, ...dedup } }],
          Topics: [
            {
              Name: "topic.1",
              Properties: { DefaultMessageTimeToLive: "PT1H", ...dedup },
              Subscriptions: [{ Name: "subscription.1", Properties: receivable }],
            },
          ],
        },
      ],
      Logging: { Type: "Console" },
    },
  });
}

function readNamespace(raw: unknown, path: string, limits: ConfigLimits): Topology {
  const obj = readObject(raw, path, `a namespace object with "Name", "Queues" and "Topics"`, NAMESPACE_KEYS);
  const namePath = child(path, "Name");
  const name = readName(get(obj, "Name"), namePath, CHILD_NAME_MAX);
  if (limits.namespaceName !== undefined && name !== limits.namespaceName) {
    fail(
      namePath,
      name,
      "is not the official emulator's namespace",
      `"${limits.namespaceName}" (strict official mode)`,
    );
  }

  const queuesPath = child(path, "Queues");
  const topicsPath = child(path, "Topics");
  const queues = readArray(get(obj, "Queues"), queuesPath, "an array of queues (may be empty)");
  const topics = readArray(get(obj, "Topics"), topicsPath, "an array of topics (may be empty)");
  const max = limits.maxEntities;
  if (max !== undefined && queues.length + topics.length > max) {
    fail(
      queues.length > max ? queuesPath : topicsPath,
      queues.length + topics.length,
      "queues and topics in total is over the limit",
      `at most ${max} queues and topics in total (official emulator limit)`,
    );
  }

  // First pass: every queue and topic name, so forwarding targets can be checked in any order.
  const scope = new NameScope("a name not used by another queue or topic");
  const entities = new Map<string, string>();
  const declare = (list: readonly unknown[], listPath: string, kind: "queue" | "topic"): void => {
    list.forEach((entry, i) => {
      const entityName = readEntityName(entry, item(listPath, i), kind);
      scope.add(entityName, child(item(listPath, i), "Name"));
      entities.set(entityName.toLowerCase(), entityName);
    });
  };
  declare(queues, queuesPath, "queue");
  declare(topics, topicsPath, "topic");

  const ctx = { limits, entities };
  return {
    namespace: name,
    queues: queues.map((entry, i) => readQueue(entry, item(queuesPath, i), ctx)),
    topics: topics.map((entry, i) => readTopic(entry, item(topicsPath, i), ctx)),
  };
}

function readLogging(value: unknown, path: string): void {
  const allowed = listNames(LOGGING_TYPES);
  const obj = readObject(value, path, `an object with "Type": ${allowed}`, ["Type"]);
  const typePath = child(path, "Type");
  const type = readString(get(obj, "Type"), typePath, allowed);
  if (!(LOGGING_TYPES as readonly string[]).includes(type))
    fail(typePath, type, "is not a logging type", allowed);
}

/** The parser's message plus a line and column, which Node 20's messages lack. */
function syntaxErrorDetail(e: unknown, text: string): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ");
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(position)).split("\n");
  return `${message} (line ${before.length} column ${before.at(-1)!.length + 1})`;
}
