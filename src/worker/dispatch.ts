/**
 * From a received message to an `Outcome`: find the handler, decode and validate the body, build
 * the handler context, run the handler. No settlement happens here (that is the consumers' job,
 * driven by the pure policy in ./policy.ts), so both consumers share this one path.
 */
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import type { Logger } from "pino";
import type { AnyHandler, HandlerRegistry, MessageMetadata, SessionAccess } from "../handlers/registry.js";
import type { Publisher } from "../publisher/index.js";
import type { DeliveryTrace, WorkerTracing } from "../telemetry/tracing.js";
import type { AnyTopicDefinition } from "../topics/dsl.js";
import type { SubscriptionBinding } from "./config.js";
import type { JobContext } from "./jobs/job.js";
import type { LazyAbortController } from "./lazyAbort.js";
import type { WorkerObserver } from "./observer.js";
import { observes } from "./observer.js";
import type { Outcome } from "./policy.js";
import type { Delivery } from "./settle.js";
import { DeliveryContext } from "./handlerContext.js";
import { messageIdText, PROPERTY } from "./properties.js";

/** What a consumer needs to dispatch messages of one subscription. */
export interface DispatchTarget {
  readonly binding: SubscriptionBinding;
  readonly topic: AnyTopicDefinition;
  readonly registry: HandlerRegistry;
  readonly publisher: Publisher<Readonly<Record<string, AnyTopicDefinition>>>;
  readonly log: Logger;
  /** Creates each attempt's CONSUMER span (src/telemetry/tracing.ts); absent: no spans. */
  readonly tracing?: WorkerTracing;
}

export interface DispatchInput {
  readonly message: ServiceBusReceivedMessage;
  readonly attempt: number;
  /**
   * Aborted when the worker stops waiting for this handler; its signal is only created if the
   * handler reads `ctx.signal`.
   */
  readonly abort: LazyAbortController;
  readonly session?: SessionAccess<unknown>;
  /** Heartbeat, checkpoint and resume (./jobs/job.ts); a no-op job when absent. */
  readonly job?: JobContext;
  /** The attempt's CONSUMER span: the handler runs inside it and its outcome is recorded on it. */
  readonly trace?: DeliveryTrace;
}

export function metadataOf(message: ServiceBusReceivedMessage): MessageMetadata {
  const props = message.applicationProperties ?? {};
  const causation = props[PROPERTY.causationId];
  return {
    messageId: messageIdText(message.messageId),
    correlationId: message.correlationId === undefined ? undefined : String(message.correlationId),
    causationId: typeof causation === "string" ? causation : undefined,
    sessionId: message.sessionId,
    deliveryCount: message.deliveryCount ?? 0,
    enqueuedTimeUtc: message.enqueuedTimeUtc,
    subject: message.subject ?? "",
    applicationProperties: props,
  };
}

/** The body as JSON: a Buffer (data section, what publishers send) or an already-decoded value. */
function decodeBody(body: unknown): { ok: true; value: unknown } | { ok: false; detail: string } {
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    try {
      // A view, not a copy (Buffer.from(body) would copy a Buffer).
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      return { ok: true, value: JSON.parse(bytes.toString("utf8")) as unknown };
    } catch (error) {
      return {
        ok: false,
        detail: `body is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
  return { ok: true, value: body };
}

/** Resolves with the handler's result, or as soon as the abort fires (a hung handler is left behind). */
function runUntilAborted(
  handler: AnyHandler,
  payload: unknown,
  ctx: Parameters<AnyHandler>[1],
  abort: LazyAbortController,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const onAbort = (): void => resolve({ kind: "interrupted", reason: abort.reason });
    if (abort.aborted) return onAbort();
    abort.onAbort(onAbort);
    runHandler(handler, payload, ctx).then(
      () => {
        abort.offAbort(onAbort);
        resolve({ kind: "success" });
      },
      // A handler that fails *because* it was aborted was interrupted, not failed: no retry copy.
      (error: unknown) => {
        abort.offAbort(onAbort);
        resolve(abort.aborted ? { kind: "interrupted", reason: abort.reason } : { kind: "failed", error });
      },
    );
  });
}

/** The handler's promise; a synchronous throw becomes a rejection. */
function runHandler(handler: AnyHandler, payload: unknown, ctx: Parameters<AnyHandler>[1]): Promise<void> {
  try {
    return handler(payload, ctx);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * One attempt of a delivery, as both consumers run it: the handler inside the attempt's span, with
 * the observer told when it starts and how it ended. The job is started by the caller.
 */
export function handleAttempt(
  target: DispatchTarget,
  observer: Required<WorkerObserver>,
  delivery: Delivery,
  attempt: number,
  job: JobContext,
  session?: SessionAccess<unknown>,
): Promise<Outcome> {
  observer.handlerStarted(delivery.event);
  const startedAt = Date.now();
  // Written out, not spread: a literal with fields after a spread is slow on Node 20 (docs/performance.md).
  const outcome = dispatch(target, {
    message: delivery.message,
    attempt,
    abort: delivery.controller,
    session,
    job,
    trace: delivery.trace,
  });
  // Not async: with no one observing the end, the dispatch's own promise is returned as is.
  if (!observes(observer, "handlerFinished")) return outcome;
  return outcome.then((o) => {
    // Extra fields before the spread: see eventWith (./observer.ts).
    observer.handlerFinished({ outcome: o.kind, durationMs: Date.now() - startedAt, ...delivery.event });
    return o;
  });
}

export function dispatch(target: DispatchTarget, input: DispatchInput): Promise<Outcome> {
  const { trace } = input;
  // Not async: returning the inner promise as is saves the ticks an async wrapper would add.
  if (!trace) return dispatchInSpan(target, input);
  return dispatchTraced(target, input, trace);
}

async function dispatchTraced(
  target: DispatchTarget,
  input: DispatchInput,
  trace: DeliveryTrace,
): Promise<Outcome> {
  const outcome = await trace.run(() => dispatchInSpan(target, input));
  trace.handled(outcome);
  return outcome;
}

/** Never throws: anything thrown before the handler runs rejects the promise, as an async function would. */
function dispatchInSpan(target: DispatchTarget, input: DispatchInput): Promise<Outcome> {
  try {
    return prepareAndRun(target, input);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function prepareAndRun(target: DispatchTarget, input: DispatchInput): Promise<Outcome> {
  const { binding, topic, registry } = target;
  const { message, attempt } = input;
  const subject = message.subject;
  const handler = registry.lookup(binding.topic, binding.subscription, subject);
  const contract = subject === undefined ? undefined : topic.messages[subject];
  if (!handler || !contract) return Promise.resolve({ kind: "noHandler", subject });

  const decoded = decodeBody(message.body);
  if (!decoded.ok) return Promise.resolve({ kind: "invalidBody", detail: decoded.detail });
  const parsed = contract.safeParse(decoded.value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    return Promise.resolve({ kind: "invalidBody", detail: `${subject} contract: ${issues}` });
  }

  const ctx = new DeliveryContext(
    target,
    metadataOf(message),
    attempt,
    input.abort,
    input.job,
    input.session,
  );
  return runUntilAborted(handler, parsed.data, ctx, input.abort);
}
