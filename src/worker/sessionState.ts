/**
 * `ctx.session`: the session state of a held session, as JSON validated by the subscription's
 * `sessionState` schema. The session lock is held by the caller throughout.
 */
import type { ServiceBusSessionReceiver } from "@azure/service-bus";
import type { z } from "zod";
import type { SessionAccess } from "../handlers/registry.js";
import { PermanentError } from "./errors.js";
import { join, split, type CheckpointEnvelope } from "./jobs/sessionCheckpoint.js";

/**
 * `checkpoint`: the running job's checkpoint, kept beside the handler's state under a reserved
 * property that `getState` hides and `setState` carries along (./jobs/sessionCheckpoint.ts).
 */
export function sessionAccess(
  receiver: ServiceBusSessionReceiver,
  schema: z.ZodType | undefined,
  checkpoint?: { readonly current: CheckpointEnvelope | undefined },
): SessionAccess<unknown> {
  return {
    id: receiver.sessionId,
    getState: async () => {
      const raw: unknown = await receiver.getSessionState();
      if (raw === null || raw === undefined) return undefined;
      let value: unknown = raw;
      if (Buffer.isBuffer(raw)) {
        if (raw.length === 0) return undefined;
        value = JSON.parse(raw.toString("utf8"));
      }
      value = split(value).state;
      if (value === null || value === undefined) return undefined;
      if (!schema) return value;
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        // Retrying cannot fix stored state: dead-letter, an operator repairs the session.
        throw new PermanentError(`session state does not match its schema: ${parsed.error.message}`, {
          code: "SessionStateInvalid",
        });
      }
      return parsed.data;
    },
    setState: async (state) => {
      if (state !== undefined && schema) schema.parse(state);
      const stored = join(state, checkpoint?.current);
      await receiver.setSessionState(stored === undefined ? null : stored);
    },
  };
}
