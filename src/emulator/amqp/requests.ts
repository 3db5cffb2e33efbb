/**
 * Request/response on the AMQP links: a CBS `put-token` and a `$management` operation, each
 * answered on the requester's reply link. A failure becomes an error status, never a thrown
 * error: one bad request must not fail the link it came on.
 */
import type { Clock } from "../clock.js";
import { rightForOperation } from "../auth/authorizer.js";
import type { Authorizer } from "../auth/authorizer.js";
import { BrokerError, Condition, isBrokerError } from "../broker/errors.js";
import type { Namespace, Resolved } from "../broker/namespace.js";
import { audiencePath } from "./cbs.js";
import { checkAuthorized, stateOf } from "./connection-state.js";
import { handleManagement } from "./management.js";
import { types } from "./rhea.js";
import type { AmqpMessage, RheaContext } from "./rhea.js";

export interface RequestDeps {
  readonly namespace: Namespace;
  readonly auth: Authorizer;
  readonly clock: Clock;
}

function text(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** Accepts the request and sends the response to its `reply-to` link, if that is still open. */
function reply(ctx: RheaContext, request: AmqpMessage, props: Record<string, unknown>, body?: unknown): void {
  ctx.delivery.accept();
  const replyTo = request.reply_to;
  const link = replyTo === undefined ? undefined : stateOf(ctx.connection).replyLinks.get(replyTo);
  if (!link || !link.is_open()) return; // The requester went away; nothing to answer.
  const response: AmqpMessage = { correlation_id: request.message_id, application_properties: props };
  if (body !== undefined) response.body = body;
  link.send(response);
}

/** A token on `$cbs`: checked, and remembered for the connection's later attaches and requests. */
export function answerPutToken(deps: RequestDeps, ctx: RheaContext): void {
  const request = ctx.message as AmqpMessage;
  const app = request.application_properties ?? {};
  const audience = text(app.name);
  const status = (code: number, description: string, condition?: string): Record<string, unknown> => ({
    "status-code": types.wrap_int(code),
    "status-description": description,
    ...(condition ? { "error-condition": condition } : {}),
  });
  try {
    if (app.operation !== "put-token")
      throw new BrokerError(
        Condition.notImplemented,
        `Unsupported CBS operation '${String(app.operation)}'.`,
      );
    const path = audiencePath(audience);
    if (path !== "") deps.namespace.resolve(path);
    const verdict = deps.auth.cbs({ audience, type: text(app.type), token: text(request.body) });
    if (!verdict.ok) {
      reply(ctx, request, status(401, verdict.reason, Condition.unauthorized));
      return;
    }
    stateOf(ctx.connection).authorized.set(path, verdict.grant);
    reply(ctx, request, status(202, "Accepted"));
  } catch (error) {
    const e = isBrokerError(error) ? error : new BrokerError(Condition.internal, String(error));
    reply(ctx, request, status(e.statusCode, e.message, e.condition));
  }
}

/** A `$management` operation on `target` (./management.ts), with the right it needs checked. */
export function answerManagement(deps: RequestDeps, ctx: RheaContext, target: Resolved): void {
  const request = ctx.message as AmqpMessage;
  const app = request.application_properties ?? {};
  const linkName = app["associated-link-name"];
  const owner =
    typeof linkName === "string" ? stateOf(ctx.connection).deliveryLinks.get(linkName)?.owner : undefined;
  try {
    const body = request.body;
    if (
      body !== undefined &&
      body !== null &&
      (typeof body !== "object" || Array.isArray(body) || Buffer.isBuffer(body))
    ) {
      throw new BrokerError(Condition.argumentError, "The request body must be a map.");
    }
    const address: string = ctx.receiver.remote.attach.target?.address ?? "";
    checkAuthorized(deps.auth, deps.clock, ctx.connection, address, rightForOperation(text(app.operation)));
    const result = handleManagement(deps.namespace, target, {
      operation: text(app.operation),
      body: (body ?? {}) as Record<string, unknown>,
      owner,
    });
    reply(
      ctx,
      request,
      {
        statusCode: types.wrap_int(result.status),
        statusDescription: result.status === 204 ? "No Content" : "OK",
      },
      result.body,
    );
  } catch (error) {
    const e = isBrokerError(error)
      ? error
      : new BrokerError(Condition.internal, error instanceof Error ? error.message : String(error));
    reply(ctx, request, {
      statusCode: types.wrap_int(e.statusCode),
      statusDescription: e.message,
      errorCondition: e.condition,
    });
  }
}
