import assert from "node:assert/strict";
import {
  FOREVER_DURATION,
  formatDuration,
  parseDuration,
  type DurationProblem,
} from "../../../src/emulator/config/index.js";

describe("config: ISO-8601 durations", () => {
  const valid: readonly (readonly [string, number])[] = [
    ["PT1M", 60_000],
    ["PT20S", 20_000],
    ["P1D", 86_400_000],
    ["P7D", 7 * 86_400_000],
    ["PT0.5S", 500],
    ["PT0S", 0],
    ["PT90S", 90_000],
    ["PT1H30M", 5_400_000],
    ["P1DT2H3M4.005S", 86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4_005],
    ["PT0.0001S", 0],
    ["PT1.1234567S", 1_123],
  ];
  for (const [text, ms] of valid) {
    it(`parses ${text} as ${ms} ms`, () => {
      assert.deepEqual(parseDuration(text), { ok: true, ms, forever: false });
    });
  }

  it("recognizes TimeSpan.MaxValue as forever", () => {
    assert.deepEqual(parseDuration(FOREVER_DURATION), { ok: true, ms: 922_337_203_685_477, forever: true });
    assert.equal(FOREVER_DURATION, "P10675199DT2H48M5.4775807S");
  });

  const invalid: readonly (readonly [string, DurationProblem])[] = [
    ["", "malformed"],
    ["P", "malformed"],
    ["PT", "malformed"],
    ["P1DT", "malformed"],
    ["1M", "malformed"],
    ["pt1m", "malformed"],
    ["-PT1M", "malformed"],
    ["PT1.5M", "malformed"],
    ["PT1M30", "malformed"],
    ["PT.5S", "malformed"],
    ["PT0.12345678S", "malformed"],
    [" PT1S", "malformed"],
    ["PT1S ", "malformed"],
    ["PT1S2M", "malformed"],
    ["00:01:00", "malformed"],
    ["P1Y", "calendar-unit"],
    ["P1M", "calendar-unit"],
    ["P2W", "calendar-unit"],
    ["P1Y2M3DT4H", "calendar-unit"],
    ["P10675199DT2H48M5.4775808S", "too-large"],
    ["P99999999999D", "too-large"],
  ];
  for (const [text, problem] of invalid) {
    it(`rejects ${JSON.stringify(text)} as ${problem}`, () => {
      assert.deepEqual(parseDuration(text), { ok: false, problem });
    });
  }

  const formatted: readonly (readonly [number, string])[] = [
    [0, "PT0S"],
    [500, "PT0.5S"],
    [5_000, "PT5S"],
    [60_000, "PT1M"],
    [3_600_000, "PT1H"],
    [86_400_000, "P1D"],
    [604_800_000, "P7D"],
    [90_061_001, "P1DT1H1M1.001S"],
    [0.5, "PT0.0005S"],
  ];
  for (const [ms, text] of formatted) {
    it(`formats ${ms} ms as ${text} and parses it back`, () => {
      assert.equal(formatDuration(ms), text);
      const back = parseDuration(text);
      assert.ok(back.ok);
      assert.equal(back.ms, Math.trunc(ms));
    });
  }

  it("refuses to format negative or non-finite durations", () => {
    assert.throws(() => formatDuration(-1), RangeError);
    assert.throws(() => formatDuration(Number.NaN), RangeError);
  });
});
