/**
 * Topology as code: a tiny typed DSL for topics, their subscriptions and their message contracts.
 *
 * Terms (the same words are used in src/handlers and src/worker):
 * - topic: where publishers send; it fans a copy of each message out to its subscriptions.
 * - subscription: a named, filtered copy of a topic's stream that one kind of consumer reads.
 * - subject: the message type (`OrderPlaced`); it travels as the message's `subject` (`sys.Label`).
 * - contract: the zod schema of one subject's payload (the JSON body).
 * - session: an ordered stream inside a subscription (session id = e.g. the order id).
 * - policy: how the worker treats a subscription (attempts, backoff, concurrency, drain).
 *
 * A topic file calls `defineTopic({...})`; `src/topics/index.ts` assembles the map that types both
 * `publish()` and the handler registry. Nothing here touches the network.
 */
import type { z } from "zod";

/** Every subject's contract: subject name to the zod schema of its payload. */
export type MessageContracts = Readonly<Record<string, z.ZodType>>;

/** One message of a topic as a discriminated union on `subject`. */
export type TopicMessage<M extends MessageContracts> = {
  [S in keyof M & string]: { readonly subject: S; readonly payload: z.output<M[S]> };
}[keyof M & string];

/** Correlation rule: exact matches on system properties and application properties. */
export interface CorrelationRule {
  readonly name: string;
  readonly correlation: {
    readonly subject?: string;
    readonly correlationId?: string;
    readonly contentType?: string;
    readonly to?: string;
    readonly replyTo?: string;
    readonly properties?: Readonly<Record<string, string | number | boolean>>;
  };
}

/** SQL rule in the Service Bus SQL filter syntax (`sys.Label = 'X' AND [region] = 'eu'`). */
export interface SqlRule {
  readonly name: string;
  readonly sql: string;
}

export type SubscriptionRule = CorrelationRule | SqlRule;

/** How the worker treats a subscription. Environment settings override these defaults. */
export interface WorkerPolicy {
  /** Handler attempts before dead-lettering with `MaxAttemptsExceeded` (first try included). */
  readonly maxAttempts: number;
  /** Capped exponential backoff with full jitter: random(0, min(maxMs, baseMs * 2^(attempt-1))). */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Handlers running at once (plain subscriptions). */
  readonly concurrency: number;
  /** Sessions held at once (session subscriptions); one message at a time per session. */
  readonly maxConcurrentSessions: number;
  /** A held session with no message for this long is released (closed) at once. */
  readonly sessionIdleTimeoutMs: number;
  /** On shutdown, in-flight handlers get this long before their signal aborts. */
  readonly drainTimeoutMs: number;
  /** A handler that heartbeated and then stays silent this long is stalled (issue 4). */
  readonly stallTimeoutMs: number;
  /** Publish JobStarted/JobProgress/JobSucceeded/JobFailed/JobDeadLettered on `job-events`. */
  readonly jobEvents: boolean;
}

export const DEFAULT_POLICY: WorkerPolicy = {
  maxAttempts: 5,
  backoff: { baseMs: 1_000, maxMs: 60_000 },
  concurrency: 16,
  maxConcurrentSessions: 8,
  sessionIdleTimeoutMs: 250,
  drainTimeoutMs: 25_000,
  stallTimeoutMs: 60_000,
  jobEvents: false,
};

/** The broker-side settings of a subscription (what Config.json or the admin API declares). */
export interface SubscriptionDefinition<Subject extends string = string> {
  /** Subjects this subscription admits; omitted = every subject (still typed for handlers). */
  readonly subjects?: readonly Subject[];
  /** Extra filters, ORed; combined with `subjects` by AND when both are given. */
  readonly rules?: readonly SubscriptionRule[];
  readonly requiresSession?: boolean;
  /** Schema of the session state (session subscriptions only); the state is JSON. */
  readonly sessionState?: z.ZodType;
  /** The broker's backstop for crashes: after this many lost locks the broker dead-letters. */
  readonly maxDeliveryCount?: number;
  readonly lockDurationMs?: number;
  readonly defaultMessageTtlMs?: number;
  readonly deadLetteringOnMessageExpiration?: boolean;
  readonly policy?: Partial<Omit<WorkerPolicy, "backoff">> & {
    readonly backoff?: Partial<WorkerPolicy["backoff"]>;
  };
}

export interface TopicSpec<
  N extends string,
  M extends MessageContracts,
  S extends Readonly<Record<string, SubscriptionDefinition<keyof M & string>>>,
> {
  readonly name: N;
  readonly messages: M;
  readonly subscriptions: S;
  /** Broker duplicate detection on MessageId, with its window. */
  readonly duplicateDetection?: { readonly windowMs: number } | false;
  readonly defaultMessageTtlMs?: number;
  /** Session id of a message, for topics with session subscriptions (e.g. the order id). */
  sessionId?(message: TopicMessage<M>): string;
  /** A deterministic MessageId (business key), so a retrying publisher is deduplicated. */
  messageId?(message: TopicMessage<M>): string | undefined;
}

export interface TopicDefinition<
  N extends string,
  M extends MessageContracts,
  S extends Readonly<Record<string, SubscriptionDefinition<keyof M & string>>>,
> extends TopicSpec<N, M, S> {
  readonly kind: "topic";
}

/** Any topic definition, as code that works on every topic (worker, emulator config) sees it. */
export interface AnyTopicDefinition {
  readonly kind: "topic";
  readonly name: string;
  readonly messages: MessageContracts;
  readonly subscriptions: Readonly<Record<string, SubscriptionDefinition>>;
  readonly duplicateDetection?: { readonly windowMs: number } | false;
  readonly defaultMessageTtlMs?: number;
  sessionId?(message: { readonly subject: string; readonly payload: unknown }): string;
  messageId?(message: { readonly subject: string; readonly payload: unknown }): string | undefined;
}

const ENTITY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** Declares a topic; checks names and cross references at definition time. */
export function defineTopic<
  const N extends string,
  const M extends MessageContracts,
  const S extends Readonly<Record<string, SubscriptionDefinition<keyof M & string>>>,
>(spec: TopicSpec<N, M, S>): TopicDefinition<N, M, S> {
  if (!ENTITY_NAME.test(spec.name))
    throw new TypeError(`topic name "${spec.name}" is not a valid entity name`);
  const subjects = Object.keys(spec.messages);
  for (const [name, sub] of Object.entries(spec.subscriptions)) {
    if (!ENTITY_NAME.test(name))
      throw new TypeError(`subscription name "${spec.name}/${name}" is not a valid entity name`);
    for (const subject of sub.subjects ?? []) {
      if (!subjects.includes(subject)) {
        throw new TypeError(`subscription ${spec.name}/${name} admits unknown subject "${subject}"`);
      }
    }
    if (sub.sessionState && !sub.requiresSession) {
      throw new TypeError(
        `subscription ${spec.name}/${name} declares sessionState but does not require sessions`,
      );
    }
    if (sub.requiresSession && !spec.sessionId) {
      throw new TypeError(
        `topic ${spec.name} has a session subscription (${name}) but no sessionId(message)`,
      );
    }
  }
  if (Object.keys(spec.subscriptions).length === 0)
    throw new TypeError(`topic ${spec.name} has no subscriptions`);
  return { kind: "topic", ...spec };
}

/** A topology: topic name to topic definition. */
export type TopologyShape = Readonly<Record<string, AnyTopicDefinition>>;

export type TopicName<T extends TopologyShape> = keyof T & string;
export type SubjectOf<T extends TopologyShape, K extends TopicName<T>> = keyof T[K]["messages"] & string;
export type PayloadOf<T extends TopologyShape, K extends TopicName<T>, S extends SubjectOf<T, K>> = z.output<
  T[K]["messages"][S]
>;
export type SubscriptionOf<T extends TopologyShape, K extends TopicName<T>> = keyof T[K]["subscriptions"] &
  string;

/** The policy of one subscription with the defaults filled in. */
export function resolvePolicy(
  sub: SubscriptionDefinition,
  defaults: WorkerPolicy = DEFAULT_POLICY,
): WorkerPolicy {
  const p = sub.policy ?? {};
  return {
    maxAttempts: p.maxAttempts ?? defaults.maxAttempts,
    backoff: {
      baseMs: p.backoff?.baseMs ?? defaults.backoff.baseMs,
      maxMs: p.backoff?.maxMs ?? defaults.backoff.maxMs,
    },
    concurrency: p.concurrency ?? defaults.concurrency,
    maxConcurrentSessions: p.maxConcurrentSessions ?? defaults.maxConcurrentSessions,
    sessionIdleTimeoutMs: p.sessionIdleTimeoutMs ?? defaults.sessionIdleTimeoutMs,
    drainTimeoutMs: p.drainTimeoutMs ?? defaults.drainTimeoutMs,
    stallTimeoutMs: p.stallTimeoutMs ?? defaults.stallTimeoutMs,
    jobEvents: p.jobEvents ?? defaults.jobEvents,
  };
}

/**
 * `topic/subscription` keys of every subscription in a topology, in declaration order. The topic
 * part is the topology map's key, the name code uses (`publish("orders", ...)`); the entity name
 * on the broker is the definition's `name` (usually the same; tests use unique names).
 */
export function subscriptionKeys(topology: TopologyShape): string[] {
  return Object.entries(topology).flatMap(([key, t]) =>
    Object.keys(t.subscriptions).map((s) => `${key}/${s}`),
  );
}

/** What a publisher passes (the contract's input: defaults may be omitted). */
export type PublishPayloadOf<
  T extends TopologyShape,
  K extends TopicName<T>,
  S extends SubjectOf<T, K>,
> = z.input<T[K]["messages"][S]>;

/** The subjects a subscription admits: its `subjects` list, else every subject of its topic. */
export type SubscriptionSubjects<
  T extends TopologyShape,
  K extends TopicName<T>,
  Sub extends SubscriptionOf<T, K>,
> = T[K]["subscriptions"][Sub] extends { readonly subjects: readonly (infer X)[] }
  ? X & string
  : SubjectOf<T, K>;

/** True when the subscription requires sessions. */
export type IsSessionSubscription<
  T extends TopologyShape,
  K extends TopicName<T>,
  Sub extends SubscriptionOf<T, K>,
> = T[K]["subscriptions"][Sub] extends { readonly requiresSession: true } ? true : false;

/** Session state type of a session subscription: its `sessionState` schema's output, else JSON. */
export type SessionStateOf<
  T extends TopologyShape,
  K extends TopicName<T>,
  Sub extends SubscriptionOf<T, K>,
> = T[K]["subscriptions"][Sub] extends { readonly sessionState: infer Z extends z.ZodType }
  ? z.output<Z>
  : unknown;
