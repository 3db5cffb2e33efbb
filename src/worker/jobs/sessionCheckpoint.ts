/**
 * Checkpoints of session subscriptions live in the session state, next to the handler's own
 * state, under one reserved property: `{ ...handlerState, "$sbwCheckpoint": { jobId, state } }`.
 * The session lock makes this holder the only writer. `ctx.session.getState()` never sees the
 * property, and `ctx.session.setState()` keeps it (src/worker/sessionState.ts calls `split`/`join`).
 * A checkpoint belongs to one job (the message at the head of the session): a checkpoint with
 * another job id is ignored, and it is removed when its job succeeds.
 */
import type { ServiceBusSessionReceiver } from "@azure/service-bus";
import { encodeJson } from "../ledger/types.js";
import type { CheckpointBackend } from "./job.js";

export const CHECKPOINT_PROPERTY = "$sbwCheckpoint";

export interface CheckpointEnvelope {
  readonly jobId: string;
  readonly state: unknown;
}

type StateReceiver = Pick<ServiceBusSessionReceiver, "getSessionState" | "setSessionState">;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** The stored value as JSON (the SDK returns a Buffer for data the worker wrote). */
export function decodeSessionState(raw: unknown): unknown {
  if (raw === null || raw === undefined) return undefined;
  if (Buffer.isBuffer(raw))
    return raw.length === 0 ? undefined : (JSON.parse(raw.toString("utf8")) as unknown);
  return raw;
}

/** Separates the handler's state from the worker's checkpoint. */
export function split(value: unknown): { state: unknown; checkpoint: CheckpointEnvelope | undefined } {
  if (!isObject(value) || !(CHECKPOINT_PROPERTY in value)) return { state: value, checkpoint: undefined };
  const { [CHECKPOINT_PROPERTY]: checkpoint, ...rest } = value;
  return {
    state: Object.keys(rest).length === 0 ? undefined : rest,
    checkpoint: checkpoint as CheckpointEnvelope,
  };
}

/** The handler's state with the checkpoint attached (the state must be an object, or absent). */
export function join(state: unknown, checkpoint: CheckpointEnvelope | undefined): unknown {
  if (!checkpoint) return state;
  if (state === undefined || state === null) return { [CHECKPOINT_PROPERTY]: checkpoint };
  if (!isObject(state)) {
    throw new TypeError(
      "a session subscription that checkpoints must keep an object (or nothing) as session state",
    );
  }
  return { ...state, [CHECKPOINT_PROPERTY]: checkpoint };
}

export class SessionCheckpoints implements CheckpointBackend {
  /** The checkpoint of this job as stored now (kept so `setState` can carry it along). */
  current: CheckpointEnvelope | undefined;

  constructor(
    private readonly receiver: StateReceiver,
    private readonly jobId: string,
  ) {}

  /** Reads the stored checkpoint of this job (undefined if none, or another job's). */
  async load(): Promise<unknown> {
    const { checkpoint } = split(decodeSessionState(await this.receiver.getSessionState()));
    this.current = checkpoint?.jobId === this.jobId ? checkpoint : undefined;
    return this.current?.state;
  }

  async save(state: unknown): Promise<boolean> {
    encodeJson(state); // fails early on what cannot be stored
    const stored = split(decodeSessionState(await this.receiver.getSessionState())).state;
    const envelope: CheckpointEnvelope = { jobId: this.jobId, state };
    await this.receiver.setSessionState(join(stored, envelope));
    this.current = envelope;
    return true;
  }

  /** Removes this job's checkpoint (a no-op when it has none: nothing loaded or saved). */
  async clear(): Promise<void> {
    if (!this.current) return;
    const { state, checkpoint } = split(decodeSessionState(await this.receiver.getSessionState()));
    this.current = undefined;
    if (checkpoint) await this.receiver.setSessionState(state === undefined ? null : state);
  }
}
