/**
 * Session receivers: `acceptSession(id)` and `acceptNextSession()`. The reply attach is held
 * back until a session is granted, so acceptNextSession long-polls (up to the client's
 * `com.microsoft:timeout`) instead of failing at once while messages are on their way. When no
 * session comes, the attach (null source) and a `com.microsoft:timeout` detach go out together,
 * which the SDK reports as ServiceTimeout.
 */
import type { Clock } from "../clock.js";
import type { Entity } from "../broker/entity.js";
import { BrokerError, Condition } from "../broker/errors.js";
import { toAmqpError } from "./delivery-link.js";
import type { RheaConnection, RheaLink } from "./rhea.js";

export interface AcceptRequest {
  readonly link: RheaLink;
  readonly entity: Entity;
  readonly sessionId: string | undefined;
  readonly timeoutMs: number;
  /** Sets the reply attach's source and properties and starts delivering. */
  readonly onGranted: (sessionId: string, lockedUntil: number) => unknown;
}

interface Waiting {
  readonly req: AcceptRequest;
  readonly timer: NodeJS.Timeout;
  readonly retry: () => void;
}

export class SessionAcceptor {
  private readonly waiting = new Map<RheaLink, Waiting>();

  constructor(private readonly clock: Clock) {}

  accept(req: AcceptRequest): void {
    holdAttach(req.link);
    if (this.tryGrant(req)) return;
    const retry = (): void => {
      if (this.waiting.get(req.link)?.req === req && this.tryGrant(req)) this.stopWaiting(req.link);
    };
    // The wait is protocol time, not broker time, so it runs on real timers even under a ManualClock.
    const timer = setTimeout(
      () => {
        this.stopWaiting(req.link);
        refuse(
          req.link,
          new BrokerError(Condition.timeout, "No session is available (the operation timed out)."),
        );
      },
      Math.max(0, Math.min(req.timeoutMs, 60_000)),
    );
    this.waiting.set(req.link, { req, timer, retry });
    req.entity.waiters.add(retry);
  }

  /** Grants a session, or refuses the link; false when the caller should wait. */
  private tryGrant(req: AcceptRequest): boolean {
    try {
      const slot = req.entity.acceptSession(req.sessionId, req.link);
      if (slot === undefined) return false;
      req.link.open();
      req.onGranted(slot.id, slot.lockedUntil);
      return true;
    } catch (error) {
      refuse(req.link, error);
      return true;
    }
  }

  private stopWaiting(link: RheaLink): void {
    const w = this.waiting.get(link);
    if (!w) return;
    clearTimeout(w.timer);
    w.req.entity.waiters.delete(w.retry);
    this.waiting.delete(link);
  }

  cancelLink(link: RheaLink): void {
    this.stopWaiting(link);
  }

  cancelFor(connection: RheaConnection): void {
    for (const link of [...this.waiting.keys()]) if (link.connection === connection) this.stopWaiting(link);
  }

  close(): void {
    for (const link of [...this.waiting.keys()]) this.stopWaiting(link);
  }

  get now(): number {
    return this.clock.now();
  }
}

/** rhea opens a remotely attached link before our handler runs; undo that to reply later. */
function holdAttach(link: RheaLink): void {
  if (link.state.local_open && link.state.open_requests > 0) {
    link.state.local_open = false;
    link.state.open_requests -= 1;
  }
}

/** Attach with a null source, then detach with the error, in one write. */
function refuse(link: RheaLink, error: unknown): void {
  link.open();
  link.local.attach.source = null;
  link.close(toAmqpError(error));
}
