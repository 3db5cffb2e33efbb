import assert from "node:assert/strict";
import { z } from "zod";
import { defineTopic } from "../../../src/topics/dsl.js";
import {
  isoDuration,
  ruleToSql,
  subscriptionRules,
  toEmulatorConfig,
} from "../../../src/topics/emulatorConfig.js";
import { topology } from "../../../src/topics/index.js";

describe("topology as code", () => {
  it("writes ISO-8601 durations", () => {
    assert.deepEqual([0, 250, 5_000, 60_000, 90_000, 3_600_000, 86_400_000 + 7_200_000].map(isoDuration), [
      "PT0S",
      "PT0.25S",
      "PT5S",
      "PT1M",
      "PT1M30S",
      "PT1H",
      "P1DT2H",
    ]);
  });

  it("generates the official Config.json shape for the reference topology", () => {
    const config = toEmulatorConfig(topology);
    const ns = config.UserConfig.Namespaces[0];
    assert.equal(ns.Name, "sbemulatorns");
    assert.deepEqual(ns.Queues, []);
    assert.deepEqual(
      ns.Topics.map((t) => [t.Name, t.Subscriptions.map((s) => s.Name)]),
      [
        ["orders", ["fulfillment", "audit"]],
        ["notifications", ["email"]],
        ["reports", ["generate"]],
        ["job-events", ["status"]],
        ["job-control", ["cancel"]],
      ],
    );
    const orders = ns.Topics[0]!;
    assert.deepEqual(orders.Properties, {
      DuplicateDetectionHistoryTimeWindow: "PT5M",
      RequiresDuplicateDetection: true,
    });
    assert.deepEqual(orders.Subscriptions[0]!.Properties, {
      DeadLetteringOnMessageExpiration: false,
      LockDuration: "PT1M",
      MaxDeliveryCount: 10,
      ForwardDeadLetteredMessagesTo: "",
      ForwardTo: "",
      RequiresSession: true,
    });
    assert.equal(config.UserConfig.Logging.Type, "Console");
  });

  it("gives every subscription a replay rule and keeps replays out of its normal rules", () => {
    const rules = subscriptionRules("audit", {});
    assert.deepEqual(rules, [
      {
        Name: "sbw-default",
        Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "[sbw-replay-to] IS NULL" } },
      },
      {
        Name: "sbw-replay",
        Properties: {
          FilterType: "Correlation",
          CorrelationFilter: { Properties: { "sbw-replay-to": "audit" } },
        },
      },
    ]);
  });

  it("compiles subjects, SQL and correlation rules to SQL ANDed with the replay guard", () => {
    const rules = subscriptionRules("eu", {
      subjects: ["OrderPlaced", "It's"],
      rules: [
        { name: "eu", sql: "region = 'eu'" },
        { name: "vip", correlation: { subject: "OrderPlaced", properties: { tier: "gold", "x-prio": 2 } } },
      ],
    });
    assert.deepEqual(
      rules.map((r) => [
        r.Name,
        r.Properties.FilterType === "Sql" ? r.Properties.SqlFilter.SqlExpression : "correlation",
      ]),
      [
        ["eu", "sys.Label IN ('OrderPlaced', 'It''s') AND (region = 'eu') AND [sbw-replay-to] IS NULL"],
        [
          "vip",
          "sys.Label IN ('OrderPlaced', 'It''s') AND (sys.Label = 'OrderPlaced' AND [tier] = 'gold' AND [x-prio] = 2) AND [sbw-replay-to] IS NULL",
        ],
        ["sbw-replay", "correlation"],
      ],
    );
  });

  it("refuses an empty correlation rule", () => {
    assert.throws(() => ruleToSql({ name: "x", correlation: {} }), /has no conditions/);
  });

  it("checks definitions when a topic is declared", () => {
    const messages = { A: z.object({ id: z.string() }) };
    assert.throws(
      () => defineTopic({ name: "-bad", messages, subscriptions: { s: {} } }),
      /not a valid entity name/,
    );
    assert.throws(() => defineTopic({ name: "t", messages, subscriptions: {} }), /has no subscriptions/);
    assert.throws(
      () => defineTopic({ name: "t", messages, subscriptions: { s: { requiresSession: true } } }),
      /no sessionId\(message\)/,
    );
    assert.throws(
      () => defineTopic({ name: "t", messages, subscriptions: { s: { subjects: ["B" as "A"] } } }),
      /unknown subject "B"/,
    );
  });
});
