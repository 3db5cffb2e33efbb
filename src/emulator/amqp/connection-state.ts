/**
 * What the front end (./server.ts) keeps per AMQP connection: its reply links, its delivery links
 * and the entity paths its CBS tokens cover.
 */
import type { Clock } from "../clock.js";
import { hasRight } from "../auth/authorizer.js";
import type { Authorizer, Grant, Right } from "../auth/authorizer.js";
import { BrokerError, Condition } from "../broker/errors.js";
import { audiencePath } from "./cbs.js";
import type { DeliveryLink } from "./delivery-link.js";
import type { RheaConnection, RheaLink } from "./rhea.js";

export interface ConnectionState {
  /** Reply links of CBS and `$management`, by link name and by target address. */
  readonly replyLinks: Map<string, RheaLink>;
  /** Receiver links by name, for `associated-link-name` in management requests. */
  readonly deliveryLinks: Map<string, DeliveryLink>;
  /** Entity paths (lower case) this connection holds a valid token for, with what it allows. */
  readonly authorized: Map<string, Grant>;
}

export function attachState(connection: RheaConnection): void {
  connection.sbw = {
    replyLinks: new Map(),
    deliveryLinks: new Map(),
    authorized: new Map(),
  } satisfies ConnectionState;
}

export function stateOf(connection: RheaConnection): ConnectionState {
  return connection.sbw as ConnectionState;
}

/** Throws `unauthorized` unless a live token of this connection grants `right` on `address`. */
export function checkAuthorized(
  auth: Authorizer,
  clock: Clock,
  connection: RheaConnection,
  address: string,
  right: Right,
): void {
  if (!auth.enforcing) return;
  const path = audiencePath(address);
  const now = clock.now();
  for (const [a, grant] of stateOf(connection).authorized) {
    const covers = a === "" || path === a || path.startsWith(`${a}/`);
    if (covers && grant.expiresAt > now && hasRight(grant, right)) return;
  }
  throw new BrokerError(
    Condition.unauthorized,
    `Unauthorized access. '${right}' claim(s) are required to perform this operation on '${address}'.`,
  );
}
