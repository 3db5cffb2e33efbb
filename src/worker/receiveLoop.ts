/** What the worker needs from a consumer (plain or session): the drain stages and health. */
export interface LoopHealth {
  readonly key: string;
  /** Has reached the broker at least once (a link attached, or a session accept answered). */
  readonly connected: boolean;
  /** No progress for longer than the expected wait plus the liveness timeout. */
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
