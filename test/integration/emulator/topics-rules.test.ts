import assert from "node:assert/strict";

import type {
  CorrelationRuleFilter,
  RuleProperties,
  ServiceBusClient,
  ServiceBusMessage,
  ServiceBusReceiver,
  SqlRuleFilter,
} from "@azure/service-bus";

import {
  assertNothingToReceive,
  bodies,
  configJson,
  correlationRule,
  EmulatorFixture,
  expectServiceBusError,
  receiveExactly,
  sqlRule,
  type SubscriptionConfig,
} from "../../helpers/emulator.js";

/** Correlation-filter subscriptions, one per field: [subscription, Config.json CorrelationFilter]. */
const CORRELATION_SUBS: readonly (readonly [string, Record<string, unknown>])[] = [
  ["c-contenttype", { ContentType: "text/x-match" }],
  ["c-correlationid", { CorrelationId: "cid-match" }],
  ["c-label", { Label: "label-match" }],
  ["c-messageid", { MessageId: "mid-match" }],
  ["c-replyto", { ReplyTo: "rt-match" }],
  ["c-replytosessionid", { ReplyToSessionId: "rtsid-match" }],
  ["c-sessionid", { SessionId: "sid-match" }],
  ["c-to", { To: "to-match" }],
  ["c-props", { Properties: { color: "red", size: 3, urgent: true } }],
  ["c-system-and-props", { Label: "label-match", Properties: { color: "red" } }],
];

/** Messages sent to the correlation topic; the body names the message. */
const CORRELATION_MESSAGES: readonly ServiceBusMessage[] = [
  { body: "contenttype", contentType: "text/x-match" },
  { body: "contenttype-case", contentType: "TEXT/X-MATCH" },
  { body: "correlationid", correlationId: "cid-match" },
  { body: "correlationid-other", correlationId: "cid-other" },
  { body: "label", subject: "label-match" },
  { body: "label-and-red", subject: "label-match", applicationProperties: { color: "red" } },
  { body: "messageid", messageId: "mid-match" },
  { body: "replyto", replyTo: "rt-match" },
  { body: "replytosessionid", replyToSessionId: "rtsid-match" },
  { body: "sessionid", sessionId: "sid-match" },
  { body: "to", to: "to-match" },
  { body: "to-prefix", to: "to-match-not" },
  { body: "props", applicationProperties: { color: "red", size: 3, urgent: true, extra: "ignored" } },
  { body: "props-missing-one", applicationProperties: { color: "red", size: 3 } },
  { body: "props-wrong-value", applicationProperties: { color: "red", size: 4, urgent: true } },
  { body: "props-as-system", subject: "red", correlationId: "red" },
];

const CORRELATION_EXPECTED: Record<string, string[]> = {
  "c-contenttype": ["contenttype"],
  "c-correlationid": ["correlationid"],
  "c-label": ["label", "label-and-red"],
  "c-messageid": ["messageid"],
  "c-replyto": ["replyto"],
  "c-replytosessionid": ["replytosessionid"],
  "c-sessionid": ["sessionid"],
  "c-to": ["to"],
  "c-props": ["props"],
  "c-system-and-props": ["label-and-red"],
};

/** SQL-filter subscriptions: [subscription, filter]. */
const SQL_SUBS: readonly (readonly [string, string])[] = [
  ["s-compare-and", "quantity > 5 AND price <= 2.5"],
  ["s-or-not", "color = 'blue' OR NOT (quantity >= 3)"],
  ["s-in", "color IN ('red', 'green')"],
  ["s-not-in", "color NOT IN ('red', 'green')"],
  ["s-like-escape", "name LIKE '50!%!_%' ESCAPE '!'"],
  ["s-like-sys", "sys.Label LIKE 'ord%'"],
  ["s-is-null", "color IS NULL"],
  ["s-is-not-null", "color IS NOT NULL AND sys.To IS NULL"],
  ["s-exists", "EXISTS(price)"],
  ["s-arithmetic", "quantity * 2 + 1 = 21 OR (quantity - 1) / 2 = 1"],
  ["s-sys-user", "sys.CorrelationId = 'c-1' AND user.color = 'red'"],
  ["s-sys-to", "sys.To = 'Store5'"],
  ["s-false", "1=0"],
];

const SQL_MESSAGES: readonly ServiceBusMessage[] = [
  {
    body: "m1",
    subject: "order",
    correlationId: "c-1",
    applicationProperties: { color: "red", quantity: 10, price: 2.5 },
  },
  { body: "m2", subject: "refund", applicationProperties: { color: "blue", quantity: 3, name: "50%_off" } },
  { body: "m3", applicationProperties: { color: "green", quantity: 0, name: "50%-off" } },
  { body: "m4", subject: "order", to: "Store5" },
];

const SQL_EXPECTED: Record<string, string[]> = {
  "s-compare-and": ["m1"],
  "s-or-not": ["m2", "m3"],
  "s-in": ["m1", "m3"],
  "s-not-in": ["m2"],
  "s-like-escape": ["m2"],
  "s-like-sys": ["m1", "m4"],
  "s-is-null": ["m4"],
  "s-is-not-null": ["m1", "m2", "m3"],
  "s-exists": ["m1"],
  "s-arithmetic": ["m1", "m2"],
  "s-sys-user": ["m1"],
  "s-sys-to": ["m4"],
  "s-false": [],
};

function subs(names: readonly string[]): SubscriptionConfig[] {
  return names.map((Name) => ({ Name }));
}

/**
 * Receives and completes `expected` messages, then checks with the emulator's counts that nothing
 * else reached the subscription (fan-out happens when the send is accepted).
 */
async function drainAll(
  fx: EmulatorFixture,
  receiver: ServiceBusReceiver,
  subscription: string,
  expected: number,
): Promise<unknown[]> {
  const received = expected === 0 ? [] : await receiveExactly(receiver, expected);
  for (const m of received) await receiver.completeMessage(m);
  const left = fx.entity(subscription);
  assert.equal(left.active + left.locked + left.deferred, 0, `${subscription} holds no other message`);
  return bodies(received);
}

async function listAll(client: ServiceBusClient, topic: string, sub: string): Promise<RuleProperties[]> {
  const rules: RuleProperties[] = [];
  // With zero rules the SDK's pager (core-paging) yields one `undefined` item instead of none: skip it.
  for await (const rule of client.createRuleManager(topic, sub).listRules()) {
    if ((rule as RuleProperties | undefined) !== undefined) rules.push(rule);
  }
  return rules;
}

describe("emulator: topics, subscriptions, filters and rules (official SDK)", () => {
  let fx: EmulatorFixture;
  let client: ServiceBusClient;

  before(async () => {
    fx = await EmulatorFixture.start({
      config: configJson({
        topics: [
          { Name: "fan", Subscriptions: subs(["one", "two", "three"]) },
          {
            Name: "nomatch",
            Subscriptions: [{ Name: "only-red", Rules: [sqlRule("red", "color = 'red'")] }],
          },
          {
            Name: "corr",
            Subscriptions: CORRELATION_SUBS.map(([Name, filter]) => ({
              Name,
              Rules: [correlationRule("match", filter)],
            })),
          },
          {
            Name: "sql",
            Subscriptions: SQL_SUBS.map(([Name, expression]) => ({
              Name,
              Rules: [sqlRule("match", expression)],
            })),
          },
          {
            Name: "actions",
            Subscriptions: [
              {
                Name: "tagged",
                Rules: [
                  sqlRule(
                    "tag",
                    "quantity > 0",
                    "SET sys.Label = 'tagged'; SET user.priority = 'high'; SET doubled = quantity * 2; REMOVE secret",
                  ),
                ],
              },
              { Name: "plain" },
            ],
          },
          {
            Name: "tworules",
            Subscriptions: [{ Name: "both", Rules: [sqlRule("a", "n > 1"), sqlRule("b", "n > 2")] }],
          },
          {
            Name: "managed",
            Subscriptions: subs([
              "rm-default",
              "rm-ops",
              "rm-fields",
              "rm-paging",
              "rm-errors",
              "rm-nodefault",
            ]),
          },
        ],
      }),
    });
    client = fx.client();
  });

  after(async () => {
    await fx.close();
  });

  it("fans a message out to every subscription, each copy with independent state", async () => {
    const sender = client.createSender("fan");
    await sender.sendMessages({ body: "hello", messageId: "fan-1" });
    const [r1, r2, r3] = ["one", "two", "three"].map((s) => client.createReceiver("fan", s));
    const [m1] = await receiveExactly(r1!, 1);
    assert.equal(m1!.body, "hello");
    assert.equal(m1!.messageId, "fan-1");
    await r1!.completeMessage(m1!);
    // Completing the copy of "one" leaves "two" and "three" untouched.
    assert.equal(fx.entity("fan/Subscriptions/two").active, 1);
    const [m2] = await receiveExactly(r2!, 1);
    await r2!.abandonMessage(m2!);
    const [m2again] = await receiveExactly(r2!, 1);
    assert.equal(m2again!.deliveryCount, 1);
    await r2!.completeMessage(m2again!);
    const [m3] = await receiveExactly(r3!, 1);
    assert.equal(m3!.deliveryCount, 0, "abandon on one subscription does not count on another");
    await r3!.completeMessage(m3!);
    await sender.close();
  });

  it("drops a message that matches no subscription", async () => {
    const sender = client.createSender("nomatch");
    await sender.sendMessages([
      { body: "blue", applicationProperties: { color: "blue" } },
      { body: "red", applicationProperties: { color: "red" } },
    ]);
    const receiver = client.createReceiver("nomatch", "only-red");
    assert.deepEqual(await drainAll(fx, receiver, "nomatch/Subscriptions/only-red", 1), ["red"]);
    const counts = fx.entity("nomatch/Subscriptions/only-red");
    assert.equal(counts.active + counts.locked + counts.deadLettered, 0);
    await sender.close();
  });

  it("applies correlation filters on every system property and on application properties", async () => {
    const sender = client.createSender("corr");
    await sender.sendMessages([...CORRELATION_MESSAGES]);
    const actual: Record<string, unknown[]> = {};
    for (const [sub] of CORRELATION_SUBS) {
      const receiver = client.createReceiver("corr", sub);
      actual[sub] = await drainAll(
        fx,
        receiver,
        `corr/Subscriptions/${sub}`,
        CORRELATION_EXPECTED[sub]!.length,
      );
      await receiver.close();
    }
    const expected = Object.fromEntries(
      Object.entries(CORRELATION_EXPECTED).map(([k, v]) => [k, [...v].sort((a, b) => a.localeCompare(b))]),
    );
    assert.deepEqual(actual, expected);
    await sender.close();
  });

  it("applies SQL filters (comparison, AND/OR/NOT, IN, LIKE/ESCAPE, NULL, EXISTS, arithmetic, sys./user.)", async () => {
    const sender = client.createSender("sql");
    await sender.sendMessages([...SQL_MESSAGES]);
    const actual: Record<string, unknown[]> = {};
    for (const [sub] of SQL_SUBS) {
      const receiver = client.createReceiver("sql", sub);
      actual[sub] = await drainAll(fx, receiver, `sql/Subscriptions/${sub}`, SQL_EXPECTED[sub]!.length);
      await receiver.close();
    }
    assert.deepEqual(actual, SQL_EXPECTED);
    await sender.close();
  });

  it("applies a SQL rule action to the copy its rule admits, not to other subscriptions' copies", async () => {
    const sender = client.createSender("actions");
    await sender.sendMessages({
      body: "act",
      subject: "original",
      applicationProperties: { quantity: 4, secret: "s3cret", keep: "yes" },
    });
    const tagged = client.createReceiver("actions", "tagged");
    const [t] = await receiveExactly(tagged, 1);
    assert.equal(t!.body, "act");
    assert.equal(t!.subject, "tagged");
    assert.deepEqual(t!.applicationProperties, { quantity: 4, keep: "yes", priority: "high", doubled: 8 });
    await tagged.completeMessage(t!);

    const plain = client.createReceiver("actions", "plain");
    const [p] = await receiveExactly(plain, 1);
    assert.equal(p!.subject, "original");
    assert.deepEqual(p!.applicationProperties, { quantity: 4, secret: "s3cret", keep: "yes" });
    await plain.completeMessage(p!);
    await sender.close();
  });

  it("delivers a message matching two rules of one subscription once", async () => {
    const sender = client.createSender("tworules");
    await sender.sendMessages([
      { body: "n3", applicationProperties: { n: 3 } },
      { body: "n2", applicationProperties: { n: 2 } },
      { body: "n1", applicationProperties: { n: 1 } },
    ]);
    const receiver = client.createReceiver("tworules", "both");
    assert.deepEqual(await drainAll(fx, receiver, "tworules/Subscriptions/both", 2), ["n2", "n3"]);
    await sender.close();
  });

  describe("rule manager", () => {
    it("lists the $Default true filter on a subscription without rules", async () => {
      const rules = await listAll(client, "managed", "rm-default");
      assert.equal(rules.length, 1);
      assert.equal(rules[0]!.name, "$Default");
      assert.equal((rules[0]!.filter as SqlRuleFilter).sqlExpression, "1=1");
      assert.equal(rules[0]!.action.sqlExpression, undefined);
    });

    it("lists rules declared in Config.json with their filters and actions", async () => {
      const [rule] = await listAll(client, "actions", "tagged");
      assert.equal(rule!.name, "tag");
      assert.equal((rule!.filter as SqlRuleFilter).sqlExpression, "quantity > 0");
      assert.equal(
        rule!.action.sqlExpression,
        "SET sys.Label = 'tagged'; SET user.priority = 'high'; SET doubled = quantity * 2; REMOVE secret",
      );
      const [corr] = await listAll(client, "corr", "c-system-and-props");
      const filter = corr!.filter as CorrelationRuleFilter;
      assert.equal(filter.subject, "label-match");
      assert.deepEqual(filter.applicationProperties, { color: "red" });
    });

    it("creates SQL and correlation rules that route later messages, and deletes them", async () => {
      const rm = client.createRuleManager("managed", "rm-ops");
      await rm.createRule(
        "red",
        { sqlExpression: "color = 'red'" },
        { sqlExpression: "SET via = 'rule-manager'" },
      );
      await rm.createRule("special", { subject: "special", applicationProperties: { kind: "x" } });
      await rm.deleteRule("$Default");

      const rules = await listAll(client, "managed", "rm-ops");
      assert.deepEqual(rules.map((r) => r.name).sort(), ["red", "special"]);
      const red = rules.find((r) => r.name === "red")!;
      assert.equal((red.filter as SqlRuleFilter).sqlExpression, "color = 'red'");
      assert.equal(red.action.sqlExpression, "SET via = 'rule-manager'");
      const special = rules.find((r) => r.name === "special")!.filter as CorrelationRuleFilter;
      assert.equal(special.subject, "special");
      assert.deepEqual(special.applicationProperties, { kind: "x" });

      const sender = client.createSender("managed");
      await sender.sendMessages([
        { body: "red", applicationProperties: { color: "red" } },
        { body: "blue", applicationProperties: { color: "blue" } },
        { body: "special", subject: "special", applicationProperties: { kind: "x" } },
        { body: "special-wrong-kind", subject: "special", applicationProperties: { kind: "y" } },
      ]);
      const receiver = client.createReceiver("managed", "rm-ops");
      const received = await receiveExactly(receiver, 2);
      assert.deepEqual(bodies(received), ["red", "special"]);
      const redCopy = received.find((m) => m.body === "red")!;
      assert.equal(redCopy.applicationProperties?.via, "rule-manager");
      for (const m of received) await receiver.completeMessage(m);
      await assertNothingToReceive(receiver, 200);

      await rm.deleteRule("red");
      assert.deepEqual(
        (await listAll(client, "managed", "rm-ops")).map((r) => r.name),
        ["special"],
      );
      await sender.sendMessages({ body: "red-after-delete", applicationProperties: { color: "red" } });
      await assertNothingToReceive(receiver, 200);
      assert.equal(fx.entity("managed/Subscriptions/rm-ops").active, 0);
      await sender.close();
    });

    it("round-trips a correlation rule with every field", async () => {
      const rm = client.createRuleManager("managed", "rm-fields");
      const filter: CorrelationRuleFilter = {
        correlationId: "cid",
        messageId: "mid",
        to: "to",
        replyTo: "rt",
        subject: "subj",
        sessionId: "sid",
        replyToSessionId: "rtsid",
        contentType: "ct",
        applicationProperties: { s: "v", n: 5, b: true },
      };
      await rm.createRule("all-fields", filter);
      const rule = (await listAll(client, "managed", "rm-fields")).find((r) => r.name === "all-fields");
      assert.ok(rule, "the created rule is listed");
      assert.deepEqual(rule.filter, filter);
    });

    it("pages through more than 100 rules", async () => {
      const rm = client.createRuleManager("managed", "rm-paging");
      const names = Array.from({ length: 130 }, (_, i) => `rule-${String(i).padStart(3, "0")}`);
      for (const name of names) await rm.createRule(name, { sqlExpression: `n = ${name.slice(5)}` });

      const listed = await listAll(client, "managed", "rm-paging");
      assert.deepEqual(listed.map((r) => r.name).sort(), ["$Default", ...names].sort());

      const pageSizes: number[] = [];
      for await (const page of rm.listRules().byPage({ maxPageSize: 40 })) pageSizes.push(page.length);
      assert.deepEqual(pageSizes, [40, 40, 40, 11]);
    });

    it("refuses a duplicate rule name with MessagingEntityAlreadyExists", async () => {
      const rm = client.createRuleManager("managed", "rm-errors");
      await rm.createRule("dup", { sqlExpression: "a = 1" });
      await expectServiceBusError(
        rm.createRule("dup", { sqlExpression: "a = 2" }),
        "MessagingEntityAlreadyExists",
      );
      await expectServiceBusError(
        rm.createRule("$default", { sqlExpression: "1=1" }),
        "MessagingEntityAlreadyExists",
      );
      const dup = (await listAll(client, "managed", "rm-errors")).filter((r) => r.name === "dup");
      assert.equal(dup.length, 1);
      assert.equal((dup[0]!.filter as SqlRuleFilter).sqlExpression, "a = 1");
    });

    it("refuses to delete a missing rule with MessagingEntityNotFound", async () => {
      const rm = client.createRuleManager("managed", "rm-errors");
      await expectServiceBusError(rm.deleteRule("no-such-rule"), "MessagingEntityNotFound");
    });

    it("refuses a rule whose SQL filter does not parse and keeps the others", async () => {
      const rm = client.createRuleManager("managed", "rm-errors");
      await expectServiceBusError(rm.createRule("bad", { sqlExpression: "color = = 'red'" }), "GeneralError");
      const names = (await listAll(client, "managed", "rm-errors")).map((r) => r.name);
      assert.ok(!names.includes("bad"), `"bad" must not be listed: ${names.join(",")}`);
      assert.ok(names.includes("$Default"));
    });

    it("delivers nothing to a subscription whose rules were all deleted", async () => {
      const rm = client.createRuleManager("managed", "rm-nodefault");
      await rm.deleteRule("$Default");
      assert.deepEqual(await listAll(client, "managed", "rm-nodefault"), []);
      const before = fx.entity("managed/Subscriptions/rm-nodefault").active;
      const otherBefore = fx.entity("managed/Subscriptions/rm-default").active;
      const sender = client.createSender("managed");
      await sender.sendMessages({ body: "nobody" });
      assert.equal(fx.entity("managed/Subscriptions/rm-nodefault").active, before);
      assert.equal(
        fx.entity("managed/Subscriptions/rm-default").active,
        otherBefore + 1,
        "others still get it",
      );
      await sender.close();
    });
  });
});
