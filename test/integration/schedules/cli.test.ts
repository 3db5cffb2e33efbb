/**
 * `sbworker schedules`: what an operator sees of the schedules the workers run, read from the
 * shared ledger store (Redis) the workers write: current or outdated definition, how far ticks
 * are scheduled, ticks waiting on the bus, the last outcome.
 */
import assert from "node:assert/strict";
import { runCli } from "../../../src/cli/index.js";
import { runSchedules, type ScheduleView } from "../../../src/cli/commands/schedules.js";
import { defineSchedule, type ScheduleDefinition } from "../../../src/topics/scheduleDsl.js";
import { captureIo } from "../../helpers/cli.js";
import { REDIS_URL } from "../../helpers/redis.js";
import { World, type TickTopology } from "./helpers.js";

const MIN = 60_000;

function minutely(topology: TickTopology, every = MIN): ScheduleDefinition {
  return defineSchedule(topology, {
    name: "minutely",
    every,
    topic: "ticks",
    subject: "Tick",
    payload: (tick) => ({ schedule: "minutely", at: tick.iso, version: "v1" }),
    catchUp: "none",
    overlap: false,
  });
}

describe("sbworker schedules", function () {
  this.timeout(60_000);
  let world: World | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("shows the workers' state from the shared store: current, scheduled through, waiting ticks, last outcome", async () => {
    const start = Math.ceil(Date.now() / MIN) * MIN + 10_000;
    const w = (world = await World.start({ start, horizonMs: MIN }));
    const schedule = minutely(w.topology);
    await w.startPod("a", [schedule]);
    await w.step();
    await w.step();
    await w.step(); // the first tick (start + 50 s) is now due
    await w.settled(1);
    const firstTick = new Date(start + 50_000).toISOString();

    const env = {
      SERVICEBUS_CONNECTION_STRING: w.emulator.connectionString,
      SBW_LEDGER: "redis",
      REDIS_URL,
      SBW_LEDGER_PREFIX: w.prefix,
    };
    const json = captureIo({ env });
    assert.equal(await runSchedules(json.io, { json: true, next: 2, schedules: [schedule] }), 0);
    const [view] = (JSON.parse(json.stdout()) as { schedules: ScheduleView[] }).schedules;
    assert.ok(view?.state, json.stdout());
    assert.equal(view.name, "minutely");
    assert.equal(view.fingerprint, schedule.fingerprint);
    assert.equal(view.next.length, 2);
    assert.equal(view.state.status, "current");
    assert.ok(view.state.scheduledThrough! > firstTick, view.state.scheduledThrough);
    assert.ok(view.state.pendingTicks >= 1, "the later ticks wait on the bus");
    assert.equal(view.state.last?.outcome, "succeeded");
    assert.equal(view.state.last?.tick, firstTick);
    assert.equal(view.state.last?.attempt, 1);

    const text = captureIo({ env });
    assert.equal(await runSchedules(text.io, { json: false, next: 1, schedules: [schedule] }), 0);
    assert.match(text.stdout(), /^minutely {2}every 1m → ticks\/\* Tick$/m);
    assert.match(text.stdout(), /^ {2}current; scheduled through \S+; \d+ tick\(s\) waiting on the bus$/m);
    assert.match(
      text.stdout(),
      new RegExp(`^  last: succeeded \\(tick ${firstTick}, attempt 1, at \\S+\\)$`, "m"),
    );

    // Another definition under the same name (a release not rolled out yet) reads as outdated.
    const changed = captureIo({ env });
    await runSchedules(changed.io, { json: true, next: 1, schedules: [minutely(w.topology, 2 * MIN)] });
    const [other] = (JSON.parse(changed.stdout()) as { schedules: ScheduleView[] }).schedules;
    assert.equal(other?.state?.status, "outdated");
  });

  it("says there is no shared state without a shared ledger, and refuses a bad --next (exit 2)", async () => {
    const env = {
      SERVICEBUS_CONNECTION_STRING:
        "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
      SBW_LEDGER: "memory",
    };
    const local = captureIo({ env });
    assert.equal(await runCli(["schedules"], local.io), 0, local.stderr());
    assert.match(local.stdout(), /ledger: memory \(per process\), so there is no shared state to show/);
    assert.doesNotMatch(local.stdout(), /scheduled through/);

    const bad = captureIo({ env });
    assert.equal(await runCli(["schedules", "--next", "0"], bad.io), 2);
    assert.equal(bad.stderr(), 'sbworker schedules: --next: expected an integer from 1 to 100, got "0"\n');
  });
});
