/**
 * The `ctx` a handler gets (HandlerContext in src/handlers/registry.ts), one per attempt.
 *
 * A class, not an object literal: a literal with getters is built by V8's slow runtime path into
 * old space, and an old-space object that points at the young message keeps the whole delivery
 * alive through every minor GC until the next full one (measured: scavenges 3-4x longer at
 * concurrency 16). `log` and `signal` are getters on the prototype, made only when first read;
 * `publish`, `heartbeat` and `checkpoint` are own functions, so destructuring `ctx` works.
 */
import type { Logger } from "pino";
import type { ContextPublish, HandlerContext, MessageMetadata, SessionAccess } from "../handlers/registry.js";
import type { PublishOptions } from "../publisher/index.js";
import type { TopologyShape } from "../topics/dsl.js";
import type { JobContext } from "./jobs/job.js";
import type { DispatchTarget } from "./dispatch.js";
import type { LazyAbortController } from "./lazyAbort.js";
import { PROPERTY } from "./properties.js";

export class DeliveryContext implements HandlerContext {
  readonly topic: string;
  readonly subscription: string;
  readonly idempotencyKey: string;
  readonly resumeFrom: unknown;
  readonly heartbeat: JobContext["heartbeat"];
  readonly checkpoint: JobContext["checkpoint"];
  readonly publish: ContextPublish<TopologyShape>;
  declare readonly session?: SessionAccess<unknown>;
  private childLog: Logger | undefined;

  constructor(
    private readonly target: DispatchTarget,
    readonly message: MessageMetadata,
    readonly attempt: number,
    private readonly abort: LazyAbortController,
    job: JobContext | undefined,
    session: SessionAccess<unknown> | undefined,
  ) {
    this.topic = target.binding.topic;
    this.subscription = target.binding.subscription;
    this.idempotencyKey = job?.idempotencyKey ?? message.messageId;
    this.resumeFrom = job?.resumeFrom;
    this.heartbeat = job?.heartbeat ?? noop;
    this.checkpoint = job?.checkpoint ?? resolved;
    this.publish = (topic, subject, payload, options) => this.followUp(topic, subject, payload, options);
    if (session) (this as { session?: SessionAccess<unknown> }).session = session;
  }

  /** Made when the handler first reads it: a pino child costs more than a no-op handler. */
  get log(): Logger {
    const m = this.message;
    return (this.childLog ??= this.target.log.child({
      messageId: m.messageId,
      subject: m.subject,
      attempt: this.attempt,
      ...(m.sessionId !== undefined ? { sessionId: m.sessionId } : {}),
    }));
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Carries the correlation id over and names this message as the cause. */
  private followUp(topic: string, subject: string, payload: unknown, options?: PublishOptions) {
    const m = this.message;
    return this.target.publisher.publish(topic, subject, payload, {
      ...options,
      correlationId: options?.correlationId ?? m.correlationId ?? m.messageId,
      applicationProperties: { ...options?.applicationProperties, [PROPERTY.causationId]: m.messageId },
    });
  }
}

const noop = (): void => {};
const resolved = (): Promise<void> => Promise.resolve();
