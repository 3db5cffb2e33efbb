/**
 * The handler registry: topic → subscription → subject → handler, typed by the topology map.
 *
 * A handler is `(payload, ctx) => Promise<void>`. Its payload type is the subject's contract
 * output, so a handler written for the wrong payload does not compile; session subscriptions get
 * `ctx.session` (typed by the subscription's `sessionState` schema), plain ones do not.
 *
 * Returning settles the message as complete. Throwing a `PermanentError` dead-letters it; any other
 * error is retried with backoff (see src/worker/policy.ts).
 */
import type { Logger } from "pino";
import type { Published, PublishOptions } from "../publisher/index.js";
import type { JobContext } from "../worker/jobs/job.js";
import type {
  IsSessionSubscription,
  PayloadOf,
  PublishPayloadOf,
  SessionStateOf,
  SubjectOf,
  SubscriptionOf,
  SubscriptionSubjects,
  TopicName,
  TopologyShape,
} from "../topics/dsl.js";

/** What the worker tells a handler about the message it is handling. */
export interface MessageMetadata {
  readonly messageId: string;
  readonly correlationId: string | undefined;
  /** MessageId of the message whose handler published this one (`sbw-causation-id`). */
  readonly causationId: string | undefined;
  readonly sessionId: string | undefined;
  /** Broker delivery count: lock losses and abandons so far (0 on the first delivery). */
  readonly deliveryCount: number;
  readonly enqueuedTimeUtc: Date | undefined;
  readonly subject: string;
  readonly applicationProperties: Readonly<Record<string, unknown>>;
}

/** Session state access (session subscriptions only); the session lock is held meanwhile. */
export interface SessionAccess<S> {
  readonly id: string;
  /** The stored state, validated by the subscription's `sessionState` schema; undefined if none. */
  getState(): Promise<S | undefined>;
  setState(state: S | undefined): Promise<void>;
}

/** Publishes a follow-up; correlation id and causation id are carried over from the current message. */
export type ContextPublish<T extends TopologyShape> = <K extends TopicName<T>, S extends SubjectOf<T, K>>(
  topic: K,
  subject: S,
  payload: PublishPayloadOf<T, K, S>,
  options?: PublishOptions,
) => Promise<Published>;

/**
 * `idempotencyKey`, `resumeFrom`, `heartbeat(progress?)` and `checkpoint(state)` come from the job
 * runtime (src/worker/jobs/job.ts, docs/reliability.md).
 */
export interface HandlerContext<T extends TopologyShape = TopologyShape> extends JobContext {
  /** Message-scoped: every line carries topic, subscription, message id and attempt. */
  readonly log: Logger;
  readonly topic: string;
  readonly subscription: string;
  readonly message: MessageMetadata;
  /** 1-based: this is the handler's n-th try for this message (retries and redeliveries count). */
  readonly attempt: number;
  /**
   * Aborts when the worker stops waiting for this handler; `signal.reason.code` says why:
   * `Stalled`, `LockLost`, `Cancelled` or `DrainTimeout` (src/worker/jobs/abort.ts).
   */
  readonly signal: AbortSignal;
  readonly publish: ContextPublish<T>;
}

export interface SessionHandlerContext<
  T extends TopologyShape = TopologyShape,
  S = unknown,
> extends HandlerContext<T> {
  readonly session: SessionAccess<S>;
}

export type Handler<P, C> = (payload: P, ctx: C) => Promise<void>;

export type ContextFor<T extends TopologyShape, K extends TopicName<T>, Sub extends SubscriptionOf<T, K>> =
  IsSessionSubscription<T, K, Sub> extends true
    ? SessionHandlerContext<T, SessionStateOf<T, K, Sub>>
    : HandlerContext<T>;

/** Handlers of one subscription, keyed by subject. */
export type SubscriptionHandlers<
  T extends TopologyShape,
  K extends TopicName<T>,
  Sub extends SubscriptionOf<T, K>,
> = {
  readonly [S in SubscriptionSubjects<T, K, Sub>]?: Handler<PayloadOf<T, K, S>, ContextFor<T, K, Sub>>;
};

/** The whole map; topics, subscriptions and subjects without handlers may be left out. */
export type HandlerMap<T extends TopologyShape> = {
  readonly [K in TopicName<T>]?: {
    readonly [Sub in SubscriptionOf<T, K>]?: SubscriptionHandlers<T, K, Sub>;
  };
};

/** A handler with its types erased, as the worker calls it (after validating the payload). */
export type AnyHandler = (
  payload: unknown,
  ctx: HandlerContext & { readonly session?: SessionAccess<unknown> },
) => Promise<void>;

export interface HandlerRegistry<T extends TopologyShape = TopologyShape> {
  readonly topology: T;
  /** The handler for a subject on a subscription, or undefined (the message is dead-lettered `NoHandler`). */
  lookup(topic: string, subscription: string, subject: string | undefined): AnyHandler | undefined;
  /** `topic/subscription` keys that have at least one handler. */
  subscriptions(): string[];
}

/** Checks the map against the topology at run time too (a typo in a JS caller, a stale key). */
export function defineHandlers<T extends TopologyShape>(
  topology: T,
  map: NoInfer<HandlerMap<T>>,
): HandlerRegistry<T> {
  // topic → subscription → subject → handler: no key string is built per message (each lookup
  // hashes the binding's own strings, whose hashes V8 caches; docs/performance.md).
  const table = new Map<string, Map<string, Map<string, AnyHandler>>>();
  const withHandlers = new Set<string>();
  for (const [topic, subs] of Object.entries(
    map as Record<string, Record<string, Record<string, unknown>>>,
  )) {
    const definition = topology[topic];
    if (!definition) throw new TypeError(`handlers given for unknown topic "${topic}"`);
    for (const [subscription, subjects] of Object.entries(subs)) {
      const sub = definition.subscriptions[subscription];
      if (!sub) throw new TypeError(`handlers given for unknown subscription "${topic}/${subscription}"`);
      for (const [subject, handler] of Object.entries(subjects)) {
        if (!(subject in definition.messages))
          throw new TypeError(`handler for unknown subject "${topic}/${subject}"`);
        if (sub.subjects && !sub.subjects.includes(subject)) {
          throw new TypeError(`subscription ${topic}/${subscription} does not admit subject "${subject}"`);
        }
        if (typeof handler !== "function")
          throw new TypeError(`handler ${topic}/${subscription}/${subject} is not a function`);
        let subscriptions = table.get(topic);
        if (!subscriptions) table.set(topic, (subscriptions = new Map<string, Map<string, AnyHandler>>()));
        let subjectsOf = subscriptions.get(subscription);
        if (!subjectsOf) subscriptions.set(subscription, (subjectsOf = new Map<string, AnyHandler>()));
        subjectsOf.set(subject, handler as AnyHandler);
        withHandlers.add(`${topic}/${subscription}`);
      }
    }
  }
  return {
    topology,
    lookup: (topic, subscription, subject) =>
      subject === undefined ? undefined : table.get(topic)?.get(subscription)?.get(subject),
    subscriptions: () => [...withHandlers],
  };
}
