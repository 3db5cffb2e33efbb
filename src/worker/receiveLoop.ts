/** What the worker needs from a consumer (plain or session): the drain stages and health. */
export interface LoopHealth {
  readonly key: string;
  /** Has reached the broker at least once (a link attached, or a session accept answered). */
  readonly connected: boolean;
  /**
   * Receiving (or accepting sessions) fails now and has not worked since: the broker is out of
   * reach, the entity is gone or a right is missing. Not ready; the loop keeps trying.
   */
  readonly failing: boolean;
  /** No progress for longer than the expected wait plus the liveness timeout: restart me. */
  readonly wedged: boolean;
  readonly inFlight: number;
  readonly detail?: string;
}

export interface ReceiveLoop {
  readonly key: string;
  start(): Promise<void>;
  /** Stage 1 of the drain: take no new messages (and no new sessions). */
  stopIntake(): Promise<void>;
  /** Stage 2: wait for in-flight handlers up to `timeoutMs`, then abort them and abandon. */
  drain(timeoutMs: number): Promise<void>;
  /** Stage 3: close links (session receivers first). Idempotent. */
  close(): Promise<void>;
  health(now: number): LoopHealth;
}

/**
 * Whether a loop that fails is also wedged. A loop that keeps failing while it keeps trying waits
 * on something outside the pod (a namespace outage, a missing right): a restart would not help and
 * would only add restarts, and back-off, to the outage, so that is `failing` (not ready), not
 * `wedged`. A loop whose failures have stopped without a success has stopped trying: wedged once
 * that silence outlasts the liveness timeout plus the longest quiet a trying loop has (`quietMs`:
 * its longest retry delay and attempt).
 */
export function failureHealth(
  failure: { readonly since: number | undefined; readonly lastAt: number | undefined },
  limits: { readonly livenessTimeoutMs: number; readonly quietMs: number },
  now: number,
): { readonly failing: boolean; readonly wedged: boolean } {
  if (failure.since === undefined) return { failing: false, wedged: false };
  const last = failure.lastAt ?? failure.since;
  return { failing: true, wedged: now - last > limits.livenessTimeoutMs + limits.quietMs };
}
