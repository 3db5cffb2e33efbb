import assert from "node:assert/strict";
import {
  defaultTopology,
  FOREVER_DURATION,
  parseEmulatorConfig,
  topologyToConfigJson,
} from "../../../src/emulator/config/index.js";
import type { QueueSpec, SubscriptionSpec, Topology } from "../../../src/emulator/topology.js";
import { officialConfig } from "./fixtures.js";

const MB = 1024 * 1024;

const baseQueue: QueueSpec = {
  kind: "queue",
  name: "orders",
  lockDurationMs: 30_000,
  maxDeliveryCount: 5,
  requiresSession: true,
  defaultMessageTtlMs: undefined,
  deadLetteringOnMessageExpiration: true,
  forwardTo: undefined,
  forwardDeadLetteredMessagesTo: "orders-dlq",
  requiresDuplicateDetection: true,
  duplicateDetectionWindowMs: 2 * 86_400_000,
  maxMessageSizeBytes: MB,
};

const baseSubscription: SubscriptionSpec = {
  kind: "subscription",
  name: "audit",
  lockDurationMs: 5_500,
  maxDeliveryCount: 2000,
  requiresSession: false,
  defaultMessageTtlMs: 1_500,
  deadLetteringOnMessageExpiration: false,
  forwardTo: "orders",
  forwardDeadLetteredMessagesTo: undefined,
  rules: [],
};

/** A hand-written topology using every feature Config.json can express. */
const RICH: Topology = {
  namespace: "my-namespace",
  queues: [
    baseQueue,
    {
      ...baseQueue,
      name: "orders-dlq",
      requiresSession: false,
      forwardDeadLetteredMessagesTo: undefined,
      defaultMessageTtlMs: 86_400_000,
    },
  ],
  topics: [
    {
      kind: "topic",
      name: "events/v1",
      defaultMessageTtlMs: undefined,
      requiresDuplicateDetection: false,
      duplicateDetectionWindowMs: 20_000,
      maxMessageSizeBytes: MB,
      subscriptions: [
        baseSubscription,
        {
          ...baseSubscription,
          name: "filtered",
          forwardTo: "events/v1",
          rules: [
            { name: "all", filter: { kind: "true" } },
            { name: "none", filter: { kind: "false" }, action: { expression: "SET x = 1" } },
            { name: "sql", filter: { kind: "sql", expression: "amount > 10 AND region = 'eu'" } },
            {
              name: "corr",
              filter: {
                kind: "correlation",
                correlation: { label: "created", sessionId: "", properties: { n: 1.5, b: true, s: "x" } },
              },
              action: { expression: "SET sys.Label = 'copied'" },
            },
          ],
        },
      ],
    },
  ],
};

/** Through real JSON text, as the CLI would write and the emulator read it. */
function roundTrip(t: Topology, strictOfficial = false): Topology {
  const text = JSON.stringify(topologyToConfigJson(t), null, 2);
  return parseEmulatorConfig(JSON.parse(text), { strictOfficial });
}

describe("config: topologyToConfigJson", () => {
  it("round-trips Microsoft's default Config.json", () => {
    const t = parseEmulatorConfig(officialConfig());
    assert.deepStrictEqual(roundTrip(t), t);
  });

  it("round-trips Microsoft's default Config.json in strict official mode", () => {
    const t = parseEmulatorConfig(officialConfig(), { strictOfficial: true });
    assert.deepStrictEqual(roundTrip(t, true), t);
  });

  it("round-trips a topology with forever TTLs, forwarding, fractional durations and every filter kind", () => {
    assert.deepStrictEqual(roundTrip(RICH), RICH);
  });

  it("round-trips the default topology", () => {
    const t = defaultTopology();
    assert.deepStrictEqual(roundTrip(t), t);
  });

  it("writes the official shape, with forever as TimeSpan.MaxValue and no Rules for a match-all subscription", () => {
    const json = topologyToConfigJson(RICH);
    const ns = json.UserConfig.Namespaces[0];
    assert.equal(json.UserConfig.Logging.Type, "File");
    assert.deepEqual(ns.Queues[0], {
      Name: "orders",
      Properties: {
        DeadLetteringOnMessageExpiration: true,
        DefaultMessageTimeToLive: FOREVER_DURATION,
        LockDuration: "PT30S",
        MaxDeliveryCount: 5,
        ForwardDeadLetteredMessagesTo: "orders-dlq",
        ForwardTo: "",
        RequiresSession: true,
        DuplicateDetectionHistoryTimeWindow: "P2D",
        RequiresDuplicateDetection: true,
      },
    });
    const [audit, filtered] = ns.Topics[0]!.Subscriptions;
    assert.equal(audit!.Rules, undefined);
    assert.equal(audit!.Properties.LockDuration, "PT5.5S");
    assert.deepEqual(filtered!.Rules!.slice(0, 2), [
      { Name: "all", Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "1=1" } } },
      {
        Name: "none",
        Properties: {
          FilterType: "Sql",
          SqlFilter: { SqlExpression: "1=0" },
          Action: { SqlExpression: "SET x = 1" },
        },
      },
    ]);
    assert.deepEqual(topologyToConfigJson(RICH, { logging: "Console" }).UserConfig.Logging, {
      Type: "Console",
    });
  });
});
