/**
 * `sbworker schedules`: the schedules declared in src/topics/schedules.ts, their next fire times
 * (in their time zone and in UTC) and, from the shared ledger store, what the workers did with
 * them: whether this definition is the current one, how far ticks are scheduled, the ticks
 * waiting on the bus and the last outcome.
 */
import { parseArgs } from "node:util";
import { schedules as referenceSchedules } from "../../topics/schedules.js";
import { describeTrigger, type ScheduleDefinition } from "../../topics/scheduleDsl.js";
import { openLedgerStore } from "../../worker/ledger/index.js";
import type { LedgerStore } from "../../worker/ledger/types.js";
import type { Book } from "../../worker/schedules/book.js";
import { readBook, readLastOutcome, type LastOutcome } from "../../worker/schedules/state.js";
import { localTime, nextTicks } from "../../worker/schedules/ticks.js";
import type { CliCommand, CliIo } from "../command.js";
import { UsageError } from "../command.js";
import { configFrom } from "./run.js";

const HELP = `usage: sbworker schedules [--json] [--next N]

Lists the schedules declared in src/topics/schedules.ts with their next N fire times (default 3),
in the schedule's time zone and in UTC. With a shared ledger (SBW_LEDGER=redis and REDIS_URL,
SBW_LEDGER_PREFIX as the workers use) it also shows the state the workers keep: whether this
definition is the one the workers run ("current"), the instant ticks are scheduled through, the
ticks waiting on the bus, and the last outcome (succeeded, failed, skipped-stale, skipped-overlap).
`;

export interface ScheduleView {
  readonly name: string;
  readonly trigger: string;
  readonly target: string;
  readonly catchUp: string;
  readonly overlap: boolean;
  readonly fingerprint: string;
  readonly next: readonly { readonly utc: string; readonly local: string }[];
  /** Undefined without a shared store. */
  readonly state?: {
    readonly status: "current" | "outdated" | "not yet scheduled";
    readonly scheduledThrough: string | undefined;
    readonly pendingTicks: number;
    readonly last: LastOutcome | undefined;
  };
}

function catchUpText(s: ScheduleDefinition): string {
  return typeof s.catchUp === "string" ? s.catchUp : `all (up to ${s.catchUp.all})`;
}

/** One view per schedule (pure apart from reading the store). */
export async function describeSchedules(
  list: readonly ScheduleDefinition[],
  now: number,
  count: number,
  store: LedgerStore | undefined,
): Promise<ScheduleView[]> {
  const book: Book | undefined = store ? await readBook(store) : undefined;
  const views: ScheduleView[] = [];
  for (const s of list) {
    const zone = s.trigger.kind === "cron" ? s.trigger.timeZone : "UTC";
    const next = nextTicks(s.trigger, now, count).map((t) => ({
      utc: new Date(t).toISOString(),
      local: localTime(zone, t),
    }));
    const view: ScheduleView = {
      name: s.name,
      trigger: describeTrigger(s.trigger),
      target: `${s.topic}/${s.subscription ?? "*"} ${s.subject}`,
      catchUp: catchUpText(s),
      overlap: s.overlap,
      fingerprint: s.fingerprint,
      next,
    };
    if (!store) {
      views.push(view);
      continue;
    }
    const state = book?.schedules[s.name];
    views.push({
      ...view,
      state: {
        status: !state ? "not yet scheduled" : state.fingerprint === s.fingerprint ? "current" : "outdated",
        scheduledThrough: state?.through === undefined ? undefined : new Date(state.through).toISOString(),
        pendingTicks: state?.ticks.filter((t) => t.at > now).length ?? 0,
        last: await readLastOutcome(store, s.name),
      },
    });
  }
  return views;
}

function render(views: readonly ScheduleView[], note: string | undefined): string {
  const lines: string[] = [];
  for (const v of views) {
    lines.push(`${v.name}  ${v.trigger} → ${v.target}`);
    lines.push(
      `  catch-up: ${v.catchUp}; overlap: ${v.overlap ? "allowed" : "skip while running"}; fingerprint ${v.fingerprint}`,
    );
    for (const n of v.next) lines.push(`  next: ${n.local}  = ${n.utc}`);
    if (v.state) {
      const last = v.state.last;
      lines.push(
        `  ${v.state.status}; scheduled through ${v.state.scheduledThrough ?? "-"}; ${v.state.pendingTicks} tick(s) waiting on the bus`,
      );
      lines.push(
        last
          ? `  last: ${last.outcome} (tick ${last.tick}, attempt ${last.attempt}, at ${new Date(last.at).toISOString()})${last.error ? `: ${last.error}` : ""}`
          : "  last: -",
      );
    }
    lines.push("");
  }
  if (views.length === 0) lines.push("no schedules declared (src/topics/schedules.ts)", "");
  if (note) lines.push(note, "");
  return lines.join("\n");
}

export async function runSchedules(
  io: CliIo,
  options: {
    readonly json: boolean;
    readonly next: number;
    readonly schedules?: readonly ScheduleDefinition[];
  },
): Promise<number> {
  const config = configFrom(io);
  const ledger = config.jobs.ledger;
  let store: LedgerStore | undefined;
  let note: string | undefined;
  if (ledger.kind === "redis") {
    store = await openLedgerStore(ledger, (error) => io.stderr.write(`sbworker: ledger: ${error.message}\n`));
  } else {
    note = `ledger: ${ledger.kind} (per process), so there is no shared state to show; set SBW_LEDGER=redis and REDIS_URL as the workers do`;
  }
  try {
    const views = await describeSchedules(
      options.schedules ?? referenceSchedules,
      Date.now(),
      options.next,
      store,
    );
    io.stdout.write(
      options.json ? `${JSON.stringify({ schedules: views }, null, 2)}\n` : render(views, note),
    );
    return 0;
  } finally {
    await store?.close();
  }
}

export const schedulesCommand: CliCommand = {
  name: "schedules",
  summary: "list schedules with their next fire times and last outcome",
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        next: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const next = values.next === undefined ? 3 : Number(values.next);
    if (!Number.isInteger(next) || next < 1 || next > 100)
      throw new UsageError(`--next: expected an integer from 1 to 100, got "${values.next}"`);
    return runSchedules(io, { json: values.json ?? false, next });
  },
};
