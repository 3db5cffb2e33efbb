import assert from "node:assert/strict";

import { AZURE_LIMITS } from "../../../src/emulator/config/limits.js";
import {
  readQueueDescription,
  readRule,
  readSubscriptionDescription,
} from "../../../src/emulator/admin/parse.js";
import type { ParseContext } from "../../../src/emulator/admin/parse.js";
import { queueDescription, ruleDescription } from "../../../src/emulator/admin/render.js";
import { parseRoute } from "../../../src/emulator/admin/request.js";
import { attr, child, childText, el, parseXml, XmlSyntaxError } from "../../../src/emulator/admin/xml.js";
import type { XmlElement } from "../../../src/emulator/admin/xml.js";
import type { QueueSpec } from "../../../src/emulator/topology.js";

const ctx: ParseContext = {
  limits: AZURE_LIMITS,
  entityName: (n) => (n.toLowerCase() === "q2" ? "q2" : undefined),
};

/** The description inside an ATOM entry, as the router extracts it. */
const description = (xml: string): XmlElement => child(parseXml(xml), "content")!.children[0]!;

// Bodies exactly as @azure/service-bus 7.9.5 serializes them (captured from its pipeline).
const CREATE_QUEUE = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><entry xmlns="http://www.w3.org/2005/Atom"><updated>2026-11-29T04:59:54.608Z</updated><content type="application/xml"><QueueDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><LockDuration>PT30S</LockDuration><MaxDeliveryCount>5</MaxDeliveryCount><ForwardTo>sb://localhost:5999/q2</ForwardTo></QueueDescription></content></entry>`;
const CREATE_SUBSCRIPTION = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><entry xmlns="http://www.w3.org/2005/Atom"><updated>2026-11-29T04:59:54.636Z</updated><content type="application/xml"><SubscriptionDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><DefaultRuleDescription><Filter p4:type="CorrelationFilter" xmlns:p4="http://www.w3.org/2001/XMLSchema-instance"><CorrelationId>x</CorrelationId><Properties><KeyValueOfstringanyType><Key>a</Key><Value p4:type="l28:double" xmlns:l28="http://www.w3.org/2001/XMLSchema">1</Value></KeyValueOfstringanyType><KeyValueOfstringanyType><Key>b</Key><Value p4:type="l28:string" xmlns:l28="http://www.w3.org/2001/XMLSchema">s</Value></KeyValueOfstringanyType><KeyValueOfstringanyType><Key>c</Key><Value p4:type="l28:boolean" xmlns:l28="http://www.w3.org/2001/XMLSchema">true</Value></KeyValueOfstringanyType></Properties></Filter><Action p4:type="EmptyRuleAction" xmlns:p4="http://www.w3.org/2001/XMLSchema-instance"/><Name>r</Name></DefaultRuleDescription></SubscriptionDescription></content></entry>`;
const CREATE_RULE = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><entry xmlns="http://www.w3.org/2005/Atom"><updated>2026-11-29T04:59:54.638Z</updated><content type="application/xml"><RuleDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Filter p4:type="SqlFilter" xmlns:p4="http://www.w3.org/2001/XMLSchema-instance"><SqlExpression>a &gt; 1</SqlExpression></Filter><Action p4:type="SqlRuleAction" xmlns:p4="http://www.w3.org/2001/XMLSchema-instance"><SqlExpression>SET b = 2</SqlExpression></Action><Name>r2</Name></RuleDescription></content></entry>`;

describe("emulator admin: XML reader and writer", () => {
  it("parses elements, prefixes, attributes, entities, CDATA and comments", () => {
    const doc = parseXml(
      `<?xml version="1.0"?><!-- c --><a:root xmlns:a="x" k='v &amp; w'><b>1 &lt; 2 &#65;&#x42;</b><c/><d><![CDATA[<raw>]]></d></a:root>`,
    );
    assert.equal(doc.name, "a:root");
    assert.equal(doc.local, "root");
    assert.equal(doc.attrs.k, "v & w");
    assert.equal(childText(doc, "b"), "1 < 2 AB");
    assert.equal(child(doc, "c")?.text, "");
    assert.equal(child(doc, "d")?.text, "<raw>");
    assert.equal(attr(parseXml(`<f p4:type="SqlFilter" xmlns:p4="i"/>`), "type"), "SqlFilter");
  });

  it("refuses malformed documents", () => {
    for (const bad of [
      "",
      "<a>",
      "<a></b>",
      "<a x=1/>",
      "<a>&nope;</a>",
      "<a/><b/>",
      "<!DOCTYPE a><a/>",
      "text",
    ]) {
      assert.throws(() => parseXml(bad), XmlSyntaxError, bad);
    }
  });

  it("writes escaped elements and omits undefined content", () => {
    assert.equal(
      el("a", `x<&>"'`, { k: "1&2", skip: undefined }).markup,
      `<a k="1&amp;2">x&lt;&amp;&gt;&quot;&apos;</a>`,
    );
    assert.equal(el("e", undefined).markup, "<e/>");
    assert.equal(el("p", [el("q", "1"), undefined, 2]).markup, "<p><q>1</q>2</p>");
  });

  it("reads the SDK's CreateQueue body, resolving ForwardTo to an entity name", () => {
    const q = readQueueDescription("q1", description(CREATE_QUEUE), ctx);
    assert.equal(q.lockDurationMs, 30_000);
    assert.equal(q.maxDeliveryCount, 5);
    assert.equal(q.forwardTo, "q2");
    assert.equal(q.defaultMessageTtlMs, undefined, "Azure default: never expires");
    assert.equal(q.maxDeliveryCount, 5);
    assert.throws(
      () => readQueueDescription("q1", description(CREATE_QUEUE.replace("PT30S", "PT10M")), ctx),
      /LockDuration 'PT10M' is out of range/,
    );
    assert.throws(
      () => readQueueDescription("q1", description(CREATE_QUEUE.replace("/q2<", "/missing<")), ctx),
      /'missing' does not exist/,
    );
  });

  it("reads a subscription's DefaultRuleDescription with typed correlation properties", () => {
    const s = readSubscriptionDescription("s", description(CREATE_SUBSCRIPTION), ctx);
    assert.deepEqual(s.rules, [
      {
        name: "r",
        filter: {
          kind: "correlation",
          correlation: { correlationId: "x", properties: { a: 1, b: "s", c: true } },
        },
      },
    ]);
  });

  it("reads SQL filters and actions, and maps 1=1 / 1=0 to true / false filters", () => {
    assert.deepEqual(readRule(description(CREATE_RULE), "fallback"), {
      name: "r2",
      filter: { kind: "sql", expression: "a > 1" },
      action: { expression: "SET b = 2" },
    });
    const t = readRule(description(CREATE_RULE.replace("a &gt; 1", "1=1")), "x");
    assert.deepEqual(t.filter, { kind: "true" });
  });

  it("renders CountDetails with exactly one namespace prefix and a rule the SDK can read back", () => {
    const spec: QueueSpec = readQueueDescription("q", description(CREATE_QUEUE), ctx);
    const meta = { createdAt: 0, updatedAt: 0, extras: {} };
    const counts = {
      active: 3,
      deadLetter: 1,
      scheduled: 2,
      transfer: 0,
      transferDeadLetter: 0,
      messageCount: 6,
      sizeInBytes: 10,
      lastEnqueuedAt: 0,
    };
    const xml = parseXml(
      queueDescription({ host: "h:1", namespace: "ns", now: 0 }, spec, meta, counts).markup,
    );
    const details = child(xml, "CountDetails")!;
    assert.deepEqual(Object.keys(details.attrs), ["xmlns:d2p1"]);
    assert.equal(childText(details, "ActiveMessageCount"), "3");
    assert.equal(details.children[0]!.name, "d2p1:ActiveMessageCount");
    assert.equal(childText(xml, "ForwardTo"), "sb://h:1/q2");
    assert.equal(childText(xml, "MessageCount"), "6");

    const rule = readRule(description(CREATE_SUBSCRIPTION), "r");
    const back = parseXml(ruleDescription(rule, 0).markup);
    assert.deepEqual(readRule(back, "r"), { ...rule, name: "r" });
  });

  it("routes administration paths the way the SDK builds them", () => {
    assert.deepEqual(parseRoute("/$namespaceinfo"), { kind: "namespace" });
    assert.deepEqual(parseRoute("/$Resources/Queues"), { kind: "queues" });
    assert.deepEqual(parseRoute("/a/b"), { kind: "entity", name: "a/b" });
    assert.deepEqual(parseRoute("/t/Subscriptions/"), { kind: "subscriptions", topic: "t" });
    assert.deepEqual(parseRoute("/t/Subscriptions/s"), { kind: "subscription", topic: "t", sub: "s" });
    assert.deepEqual(parseRoute("/t/x/Subscriptions/s/Rules/"), { kind: "rules", topic: "t/x", sub: "s" });
    assert.deepEqual(parseRoute("/t/subscriptions/s/rules/$Default"), {
      kind: "rule",
      topic: "t",
      sub: "s",
      rule: "$Default",
    });
  });
});
