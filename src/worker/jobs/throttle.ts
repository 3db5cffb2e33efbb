/**
 * Progress throttling, as a pure reducer: at most one `JobProgress` per `intervalMs` per job, the
 * first at once (leading edge) and the latest one held back sent when the interval ends (trailing
 * edge), so a job that reports 90 % and then goes quiet for a minute is not shown at 50 %.
 */
export interface ThrottleState<P> {
  readonly lastSentAt: number | undefined;
  /** The latest progress not sent yet. */
  readonly pending: { readonly progress: P } | undefined;
}

export interface ThrottleStep<P> {
  readonly state: ThrottleState<P>;
  /** Send this now. */
  readonly send?: { readonly progress: P };
  /** Call `flushDue` at this time (a trailing send is waiting). */
  readonly wakeAt?: number;
}

const INITIAL: ThrottleState<never> = Object.freeze({ lastSentAt: undefined, pending: undefined });

/** One shared object: states are never mutated (every step returns a new one). */
export function initialThrottle<P>(): ThrottleState<P> {
  return INITIAL;
}

/** A new progress report. */
export function offerProgress<P>(
  state: ThrottleState<P>,
  progress: P,
  now: number,
  intervalMs: number,
): ThrottleStep<P> {
  if (state.lastSentAt === undefined || now - state.lastSentAt >= intervalMs) {
    return { state: { lastSentAt: now, pending: undefined }, send: { progress } };
  }
  const wakeAt = state.lastSentAt + intervalMs;
  // A trailing send is already waiting when `pending` is set: it will carry this newer progress.
  return { state: { ...state, pending: { progress } }, ...(state.pending ? {} : { wakeAt }) };
}

/** The interval has ended: send what is pending, if anything. */
export function flushDue<P>(state: ThrottleState<P>, now: number, intervalMs: number): ThrottleStep<P> {
  if (!state.pending) return { state };
  if (state.lastSentAt !== undefined && now - state.lastSentAt < intervalMs) {
    return { state, wakeAt: state.lastSentAt + intervalMs };
  }
  return { state: { lastSentAt: now, pending: undefined }, send: state.pending };
}
