import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defaultTopology,
  isEmulatorConfigError,
  loadEmulatorConfigFile,
  parseEmulatorConfig,
} from "../../../src/emulator/config/index.js";
import type { SubscriptionSpec, Topology } from "../../../src/emulator/topology.js";
import { officialConfig, officialWith, REMOVE } from "./fixtures.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function officialSubscription(name: string, rules: SubscriptionSpec["rules"]): SubscriptionSpec {
  return {
    kind: "subscription",
    name,
    lockDurationMs: MINUTE,
    maxDeliveryCount: 3,
    requiresSession: false,
    defaultMessageTtlMs: HOUR,
    deadLetteringOnMessageExpiration: false,
    forwardTo: undefined,
    forwardDeadLetteredMessagesTo: undefined,
    rules,
  };
}

const OFFICIAL_TOPOLOGY: Topology = {
  namespace: "sbemulatorns",
  queues: [
    {
      kind: "queue",
      name: "queue.1",
      lockDurationMs: MINUTE,
      maxDeliveryCount: 3,
      requiresSession: false,
      defaultMessageTtlMs: HOUR,
      deadLetteringOnMessageExpiration: false,
      forwardTo: undefined,
      forwardDeadLetteredMessagesTo: undefined,
      requiresDuplicateDetection: false,
      duplicateDetectionWindowMs: 20_000,
      maxMessageSizeBytes: 1024 * 1024,
    },
  ],
  topics: [
    {
      kind: "topic",
      name: "topic.1",
      defaultMessageTtlMs: HOUR,
      requiresDuplicateDetection: false,
      duplicateDetectionWindowMs: 20_000,
      maxMessageSizeBytes: 1024 * 1024,
      subscriptions: [
        officialSubscription("subscription.1", [
          {
            name: "app-prop-filter-1",
            filter: {
              kind: "correlation",
              correlation: {
                contentType: "application/text",
                correlationId: "id1",
                label: "subject1",
                messageId: "msgid1",
                replyTo: "someQueue",
                replyToSessionId: "sessionId",
                sessionId: "session1",
                to: "xyz",
              },
            },
          },
        ]),
        officialSubscription("subscription.2", [
          {
            name: "user-prop-filter-1",
            filter: { kind: "correlation", correlation: { properties: { prop3: "value3" } } },
          },
        ]),
        officialSubscription("subscription.3", [
          {
            name: "sql-filter-1",
            filter: { kind: "sql", expression: "sys.MessageId = '123456' AND userProp1 = 'value1'" },
            action: { expression: "SET sys.To = 'Entity'" },
          },
        ]),
      ],
    },
  ],
};

/** The official config reduced to bare names, so every property takes its default. */
function bareConfig(): Record<string, unknown> {
  return officialWith(
    ["UserConfig/Namespaces/0/Queues/0/Properties", REMOVE],
    ["UserConfig/Namespaces/0/Topics/0/Properties", REMOVE],
    ["UserConfig/Namespaces/0/Topics/0/Subscriptions", [{ Name: "s" }]],
  );
}

describe("config: parseEmulatorConfig", () => {
  it("parses Microsoft's default Config.json", () => {
    assert.deepStrictEqual(parseEmulatorConfig(officialConfig()), OFFICIAL_TOPOLOGY);
  });

  it("parses Microsoft's default Config.json in strict official mode, with 256 KB messages", () => {
    const t = parseEmulatorConfig(officialConfig(), { strictOfficial: true });
    assert.equal(t.queues[0]!.maxMessageSizeBytes, 256 * 1024);
    assert.equal(t.topics[0]!.maxMessageSizeBytes, 256 * 1024);
    assert.equal(t.topics[0]!.subscriptions.length, 3);
  });

  it("fills in real-Azure defaults for omitted properties", () => {
    const t = parseEmulatorConfig(bareConfig());
    assert.deepStrictEqual(t.queues[0], {
      kind: "queue",
      name: "queue.1",
      lockDurationMs: MINUTE,
      maxDeliveryCount: 10,
      requiresSession: false,
      defaultMessageTtlMs: undefined,
      deadLetteringOnMessageExpiration: false,
      forwardTo: undefined,
      forwardDeadLetteredMessagesTo: undefined,
      requiresDuplicateDetection: false,
      duplicateDetectionWindowMs: 10 * MINUTE,
      maxMessageSizeBytes: 1024 * 1024,
    });
    assert.equal(t.topics[0]!.defaultMessageTtlMs, undefined);
    assert.equal(t.topics[0]!.duplicateDetectionWindowMs, 10 * MINUTE);
    assert.deepStrictEqual(t.topics[0]!.subscriptions[0], {
      kind: "subscription",
      name: "s",
      lockDurationMs: MINUTE,
      maxDeliveryCount: 10,
      requiresSession: false,
      defaultMessageTtlMs: undefined,
      deadLetteringOnMessageExpiration: false,
      forwardTo: undefined,
      forwardDeadLetteredMessagesTo: undefined,
      rules: [],
    });
  });

  it("fills in the official emulator's defaults in strict mode", () => {
    const t = parseEmulatorConfig(bareConfig(), { strictOfficial: true });
    const q = t.queues[0]!;
    assert.equal(q.lockDurationMs, MINUTE);
    assert.equal(q.maxDeliveryCount, 3);
    assert.equal(q.duplicateDetectionWindowMs, 20_000);
    assert.equal(q.defaultMessageTtlMs, HOUR);
    assert.equal(q.maxMessageSizeBytes, 256 * 1024);
    assert.equal(t.topics[0]!.subscriptions[0]!.maxDeliveryCount, 3);
    assert.equal(t.topics[0]!.defaultMessageTtlMs, HOUR);
  });

  it("reads TimeSpan.MaxValue as a TTL that never expires", () => {
    const t = parseEmulatorConfig(
      officialWith([
        "UserConfig/Namespaces/0/Queues/0/Properties/DefaultMessageTimeToLive",
        "P10675199DT2H48M5.4775807S",
      ]),
    );
    assert.equal(t.queues[0]!.defaultMessageTtlMs, undefined);
  });

  it("accepts any valid namespace name unless strict", () => {
    const t = parseEmulatorConfig(officialWith(["UserConfig/Namespaces/0/Name", "orders-dev"]));
    assert.equal(t.namespace, "orders-dev");
  });

  it("accepts empty Queues and Topics, every Logging type and a $schema property", () => {
    for (const type of ["File", "Console", "File,Console", "Console,File"]) {
      const config = officialWith(
        ["UserConfig/Namespaces/0/Queues", []],
        ["UserConfig/Namespaces/0/Topics", []],
        ["UserConfig/Logging/Type", type],
        ["$schema", "./Config-schema.json"],
      );
      assert.deepStrictEqual(parseEmulatorConfig(config), {
        namespace: "sbemulatorns",
        queues: [],
        topics: [],
      });
    }
  });

  it("resolves forwarding targets case-insensitively to their declared names, in any order", () => {
    const t = parseEmulatorConfig(
      officialWith(
        ["UserConfig/Namespaces/0/Queues/0/Properties/ForwardTo", "TOPIC.1"],
        [
          "UserConfig/Namespaces/0/Topics/0/Subscriptions/0/Properties/ForwardDeadLetteredMessagesTo",
          "Queue.1",
        ],
        ["UserConfig/Namespaces/0/Topics/0/Subscriptions/1/Properties/ForwardTo", "topic.1"],
      ),
    );
    assert.equal(t.queues[0]!.forwardTo, "topic.1");
    assert.equal(t.topics[0]!.subscriptions[0]!.forwardDeadLetteredMessagesTo, "queue.1");
    assert.equal(t.topics[0]!.subscriptions[1]!.forwardTo, "topic.1");
  });

  it("reads SQL filters 1=1 and 1=0 as the true and false filters", () => {
    const sqlRule =
      "UserConfig/Namespaces/0/Topics/0/Subscriptions/2/Rules/0/Properties/SqlFilter/SqlExpression";
    const t1 = parseEmulatorConfig(officialWith([sqlRule, "1=1"]));
    assert.deepStrictEqual(t1.topics[0]!.subscriptions[2]!.rules[0]!.filter, { kind: "true" });
    const t0 = parseEmulatorConfig(officialWith([sqlRule, " 1 = 0 "]));
    assert.deepStrictEqual(t0.topics[0]!.subscriptions[2]!.rules[0]!.filter, { kind: "false" });
  });

  it("keeps correlation application properties of every JSON scalar type, and odd names as data", () => {
    const props = JSON.parse('{"n": 1.5, "b": false, "s": "x", "__proto__": "p"}') as unknown;
    const t = parseEmulatorConfig(
      officialWith([
        "UserConfig/Namespaces/0/Topics/0/Subscriptions/1/Rules/0/Properties/CorrelationFilter/Properties",
        props,
      ]),
    );
    const filter = t.topics[0]!.subscriptions[1]!.rules[0]!.filter;
    assert.ok(filter.kind === "correlation");
    const properties = filter.correlation.properties!;
    assert.deepEqual(Object.keys(properties), ["n", "b", "s", "__proto__"]);
    assert.equal(Object.getPrototypeOf(properties), Object.prototype);
  });
});

describe("config: loadEmulatorConfigFile", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sbworker-config-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a Config.json file, with or without a byte-order mark", async () => {
    const plain = join(dir, "Config.json");
    await writeFile(plain, JSON.stringify(officialConfig(), null, 2));
    assert.deepStrictEqual(await loadEmulatorConfigFile(plain), OFFICIAL_TOPOLOGY);
    const bom = join(dir, "bom.json");
    await writeFile(bom, `\uFEFF${JSON.stringify(officialConfig())}`);
    assert.deepStrictEqual(await loadEmulatorConfigFile(bom), OFFICIAL_TOPOLOGY);
  });

  it("reports a JSON syntax error naming the file, line and column", async () => {
    const file = join(dir, "broken.json");
    await writeFile(file, '{\n  "UserConfig": {,\n}');
    await assert.rejects(loadEmulatorConfigFile(file), (e: unknown) => {
      assert.ok(isEmulatorConfigError(e));
      assert.equal(e.file, file);
      assert.equal(e.path, "(root)");
      assert.match(
        e.message,
        /^Invalid emulator config in .*broken\.json at \(root\): ".*line 2 column 18.*" is a JSON syntax error; allowed: a JSON document/,
      );
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  });

  it("reports a missing file as a config error", async () => {
    const file = join(dir, "missing.json");
    await assert.rejects(loadEmulatorConfigFile(file), (e: unknown) => {
      assert.ok(isEmulatorConfigError(e));
      assert.equal(e.file, file);
      assert.match(e.message, /cannot be read \(ENOENT/);
      return true;
    });
  });

  it("adds the file to validation errors and passes the options on", async () => {
    const file = join(dir, "strict.json");
    await writeFile(file, JSON.stringify(officialWith(["UserConfig/Namespaces/0/Name", "other"])));
    assert.equal((await loadEmulatorConfigFile(file)).namespace, "other");
    await assert.rejects(loadEmulatorConfigFile(file, { strictOfficial: true }), (e: unknown) => {
      assert.ok(isEmulatorConfigError(e));
      assert.equal(e.path, "UserConfig.Namespaces[0].Name");
      assert.ok(
        e.message.startsWith(`Invalid emulator config in ${file} at UserConfig.Namespaces[0].Name: "other"`),
      );
      return true;
    });
  });
});

describe("config: defaultTopology", () => {
  it("mirrors the official default entity names, with a match-all subscription", () => {
    const t = defaultTopology();
    assert.equal(t.namespace, "sbemulatorns");
    assert.deepEqual(
      t.queues.map((q) => q.name),
      ["queue.1"],
    );
    assert.deepEqual(
      t.topics.map((x) => [x.name, x.subscriptions.map((s) => [s.name, s.rules.length])]),
      [["topic.1", [["subscription.1", 0]]]],
    );
    assert.equal(t.queues[0]!.maxDeliveryCount, 3);
    assert.equal(t.queues[0]!.defaultMessageTtlMs, HOUR);
  });

  it("returns a fresh topology each time", () => {
    assert.notEqual(defaultTopology(), defaultTopology());
    assert.deepStrictEqual(defaultTopology(), defaultTopology());
  });
});
