/**
 * Progress of a replay or purge. On a terminal: one bar redrawn in place on stderr
 * (`[######----] 120/500  24.0 msg/s  ETA 16s`). Otherwise (CI, pipes, tests): a plain line at
 * every tenth of the work and at the end, so logs stay short but show movement.
 * Rates and ETA use an injected clock.
 */
export interface ProgressSink {
  write(text: string): unknown;
}

export interface Progress {
  /** One more message finished (any outcome). */
  tick(failed: boolean): void;
  /** The final line (or the bar cleared of its carriage return). */
  finish(): void;
}

const BAR_WIDTH = 30;

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function createProgress(options: {
  readonly total: number;
  readonly verb: string;
  readonly sink: ProgressSink;
  readonly tty: boolean;
  readonly now?: () => number;
}): Progress {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const { total, sink, verb } = options;
  let done = 0;
  let failed = 0;
  let lastDrawn = -1;
  const step = Math.max(1, Math.ceil(total / 10));
  const rate = (): number => {
    const seconds = (now() - started) / 1000;
    return seconds > 0 ? done / seconds : 0;
  };
  const draw = (): void => {
    const r = rate();
    const eta = r > 0 ? ((total - done) / r) * 1000 : Number.POSITIVE_INFINITY;
    if (options.tty) {
      const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
      sink.write(
        `\r[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${done}/${total}  ${r.toFixed(1)} msg/s  ETA ${formatDuration(eta)}${failed ? `  failed ${failed}` : ""}\x1b[K`,
      );
    } else {
      sink.write(`${verb}: ${done}/${total} done, ${failed} failed, ${r.toFixed(1)} msg/s\n`);
    }
    lastDrawn = done;
  };
  return {
    tick(isFailure) {
      done += 1;
      if (isFailure) failed += 1;
      if (options.tty || done % step === 0 || done === total) draw();
    },
    finish() {
      if (options.tty) {
        draw();
        sink.write("\n");
      } else if (lastDrawn !== done) draw();
    },
  };
}
