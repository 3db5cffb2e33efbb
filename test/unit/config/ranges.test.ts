import assert from "node:assert/strict";
import {
  isEmulatorConfigError,
  parseEmulatorConfig,
  type LoadConfigOptions,
} from "../../../src/emulator/config/index.js";
import { officialConfig, officialWith } from "./fixtures.js";
import {
  NS,
  P_QP,
  P_S,
  P_T,
  QP,
  S,
  T,
  queues,
  rejectsEach,
  subscription,
  type BadCase,
} from "./bad-cases.js";

const cases: readonly BadCase[] = [
  // Durations and ranges (real-Azure defaults)
  {
    name: "a lock duration over 5 minutes",
    config: officialWith([`${QP}/LockDuration`, "PT10M"]),
    path: `${P_QP}.LockDuration`,
    shown: `"PT10M" is out of range`,
    allowed: "an ISO-8601 duration from PT5S to PT5M",
  },
  {
    name: "a lock duration under 5 seconds",
    config: officialWith([`${S}/0/Properties/LockDuration`, "PT1S"]),
    path: `${P_S}[0].Properties.LockDuration`,
    shown: `"PT1S" is out of range`,
    allowed: "from PT5S to PT5M",
  },
  {
    name: "a forever lock duration",
    config: officialWith([`${QP}/LockDuration`, "P10675199DT2H48M5.4775807S"]),
    path: `${P_QP}.LockDuration`,
    shown: `"P10675199DT2H48M5.4775807S" is out of range`,
    allowed: "from PT5S to PT5M",
  },
  {
    name: "a duration in words",
    config: officialWith([`${QP}/LockDuration`, "10 minutes"]),
    path: `${P_QP}.LockDuration`,
    shown: `"10 minutes" is not an ISO-8601 duration`,
    allowed: "from PT5S to PT5M",
  },
  {
    name: "a duration as a number",
    config: officialWith([`${QP}/LockDuration`, 60]),
    path: `${P_QP}.LockDuration`,
    shown: "60 is not a string",
    allowed: "from PT5S to PT5M",
  },
  {
    name: "a TTL in months",
    config: officialWith([`${QP}/DefaultMessageTimeToLive`, "P1M"]),
    path: `${P_QP}.DefaultMessageTimeToLive`,
    shown: `"P1M" uses years, months or weeks`,
    allowed: "of at least PT1S, or P10675199DT2H48M5.4775807S (never expires)",
  },
  {
    name: "a TTL under a second",
    config: officialWith([`${T}/Properties/DefaultMessageTimeToLive`, "PT0.5S"]),
    path: `${P_T}.Properties.DefaultMessageTimeToLive`,
    shown: `"PT0.5S" is out of range`,
    allowed: "of at least PT1S",
  },
  {
    name: "a TTL beyond TimeSpan.MaxValue",
    config: officialWith([`${QP}/DefaultMessageTimeToLive`, "P10675200D"]),
    path: `${P_QP}.DefaultMessageTimeToLive`,
    shown: `"P10675200D" is out of range`,
    allowed: "of at least PT1S",
  },
  {
    name: "a dedup window under 20 seconds",
    config: officialWith([`${QP}/DuplicateDetectionHistoryTimeWindow`, "PT10S"]),
    path: `${P_QP}.DuplicateDetectionHistoryTimeWindow`,
    shown: `"PT10S" is out of range`,
    allowed: "from PT20S to P7D",
  },
  {
    name: "a dedup window over 7 days",
    config: officialWith([`${T}/Properties/DuplicateDetectionHistoryTimeWindow`, "P8D"]),
    path: `${P_T}.Properties.DuplicateDetectionHistoryTimeWindow`,
    shown: `"P8D" is out of range`,
    allowed: "from PT20S to P7D",
  },
  {
    name: "MaxDeliveryCount 0",
    config: officialWith([`${QP}/MaxDeliveryCount`, 0]),
    path: `${P_QP}.MaxDeliveryCount`,
    shown: "0 is out of range",
    allowed: "an integer from 1 to 2000",
  },
  {
    name: "MaxDeliveryCount 2001",
    config: officialWith([`${S}/1/Properties/MaxDeliveryCount`, 2001]),
    path: `${P_S}[1].Properties.MaxDeliveryCount`,
    shown: "2001 is out of range",
    allowed: "an integer from 1 to 2000",
  },
  {
    name: "a fractional MaxDeliveryCount",
    config: officialWith([`${QP}/MaxDeliveryCount`, 2.5]),
    path: `${P_QP}.MaxDeliveryCount`,
    shown: "2.5 is not an integer",
    allowed: "an integer from 1 to 2000",
  },
  {
    name: "a MaxDeliveryCount string",
    config: officialWith([`${QP}/MaxDeliveryCount`, "3"]),
    path: `${P_QP}.MaxDeliveryCount`,
    shown: `"3" is not an integer`,
    allowed: "an integer from 1 to 2000",
  },
  {
    name: "a boolean as a string",
    config: officialWith([`${QP}/RequiresSession`, "true"]),
    path: `${P_QP}.RequiresSession`,
    shown: `"true" is not a boolean`,
    allowed: "true or false",
  },
  // Strict official ranges
  {
    name: "MaxDeliveryCount 11 in strict mode",
    config: officialWith([`${QP}/MaxDeliveryCount`, 11]),
    options: { strictOfficial: true },
    path: `${P_QP}.MaxDeliveryCount`,
    shown: "11 is out of range",
    allowed: "an integer from 1 to 10",
  },
  {
    name: "a 2 hour TTL in strict mode",
    config: officialWith([`${QP}/DefaultMessageTimeToLive`, "PT2H"]),
    options: { strictOfficial: true },
    path: `${P_QP}.DefaultMessageTimeToLive`,
    shown: `"PT2H" is out of range`,
    allowed: "an ISO-8601 duration from PT5M to PT1H",
  },
  {
    name: "a forever TTL in strict mode",
    config: officialWith([`${S}/0/Properties/DefaultMessageTimeToLive`, "P10675199DT2H48M5.4775807S"]),
    options: { strictOfficial: true },
    path: `${P_S}[0].Properties.DefaultMessageTimeToLive`,
    shown: "is out of range",
    allowed: "from PT5M to PT1H",
  },
  {
    name: "a 1 minute TTL in strict mode",
    config: officialWith([`${QP}/DefaultMessageTimeToLive`, "PT1M"]),
    options: { strictOfficial: true },
    path: `${P_QP}.DefaultMessageTimeToLive`,
    shown: `"PT1M" is out of range`,
    allowed: "from PT5M to PT1H",
  },
  {
    name: "a 10 minute dedup window in strict mode",
    config: officialWith([`${QP}/DuplicateDetectionHistoryTimeWindow`, "PT10M"]),
    options: { strictOfficial: true },
    path: `${P_QP}.DuplicateDetectionHistoryTimeWindow`,
    shown: `"PT10M" is out of range`,
    allowed: "from PT5S to PT5M",
  },
  {
    name: "51 subscriptions in strict mode",
    config: officialWith([`${T}/Subscriptions`, Array.from({ length: 51 }, (_, i) => subscription(`s${i}`))]),
    options: { strictOfficial: true },
    path: P_S,
    shown: "51 subscriptions is over the limit",
    allowed: "at most 50 subscriptions per topic",
  },
];

describe("config: out-of-range values", () => {
  rejectsEach(cases);
});

describe("config: strict official mode versus real-Azure ranges", () => {
  const table: readonly (readonly [string, string, unknown, boolean, boolean])[] = [
    // property path, label, value, accepted by default, accepted when strict
    [`${QP}/MaxDeliveryCount`, "MaxDeliveryCount", 10, true, true],
    [`${QP}/MaxDeliveryCount`, "MaxDeliveryCount", 11, true, false],
    [`${QP}/MaxDeliveryCount`, "MaxDeliveryCount", 2000, true, false],
    [`${QP}/LockDuration`, "LockDuration", "PT5S", true, true],
    [`${QP}/LockDuration`, "LockDuration", "PT5M", true, true],
    [`${QP}/DuplicateDetectionHistoryTimeWindow`, "dedup window", "PT5S", false, true],
    [`${QP}/DuplicateDetectionHistoryTimeWindow`, "dedup window", "PT5M", true, true],
    [`${QP}/DuplicateDetectionHistoryTimeWindow`, "dedup window", "P7D", true, false],
    [`${QP}/DefaultMessageTimeToLive`, "TTL", "PT1S", true, false],
    [`${QP}/DefaultMessageTimeToLive`, "TTL", "PT5M", true, true],
    [`${QP}/DefaultMessageTimeToLive`, "TTL", "PT1H", true, true],
    [`${QP}/DefaultMessageTimeToLive`, "TTL", "P14D", true, false],
    [`${QP}/DefaultMessageTimeToLive`, "TTL", "P10675199DT2H48M5.4775807S", true, false],
  ];
  for (const [path, label, value, byDefault, strict] of table) {
    it(`${label} ${String(value)}: ${byDefault ? "accepted" : "rejected"} by default, ${strict ? "accepted" : "rejected"} when strict`, () => {
      const outcome = (options: LoadConfigOptions): boolean => {
        try {
          parseEmulatorConfig(officialWith([path, value]), options);
          return true;
        } catch (e) {
          if (!isEmulatorConfigError(e)) throw e;
          return false;
        }
      };
      assert.equal(outcome({}), byDefault);
      assert.equal(outcome({ strictOfficial: true }), strict);
    });
  }

  it("accepts 50 queues and topics and 50 subscriptions per topic when strict", () => {
    const config = officialWith(
      [`${NS}/Queues`, queues(49)],
      [`${T}/Subscriptions`, Array.from({ length: 50 }, (_, i) => subscription(`s${i}`))],
    );
    const t = parseEmulatorConfig(config, { strictOfficial: true });
    assert.equal(t.queues.length + t.topics.length, 50);
    assert.equal(t.topics[0]!.subscriptions.length, 50);
  });

  it("does not mutate the input", () => {
    const config = officialConfig();
    const before = JSON.stringify(config);
    parseEmulatorConfig(config);
    assert.equal(JSON.stringify(config), before);
  });
});
