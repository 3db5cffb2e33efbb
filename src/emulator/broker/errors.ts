/**
 * Broker failures carry the AMQP error condition and the management status code the SDK maps
 * to a `ServiceBusError` code (see servicebus-amqp.md §7.13). The AMQP layer turns them into a
 * rejected outcome, a link detach or a `$management` error reply; nothing matches on text,
 * except the SDK itself, which needs "could not be found" to report MessagingEntityNotFound.
 */
export const Condition = {
  notFound: "amqp:not-found",
  notAllowed: "amqp:not-allowed",
  notImplemented: "amqp:not-implemented",
  unauthorized: "amqp:unauthorized-access",
  decodeError: "amqp:decode-error",
  internal: "amqp:internal-error",
  messageSizeExceeded: "amqp:link:message-size-exceeded",
  resourceLimitExceeded: "amqp:resource-limit-exceeded",
  connectionForced: "amqp:connection:forced",
  lockLost: "com.microsoft:message-lock-lost",
  sessionLockLost: "com.microsoft:session-lock-lost",
  sessionCannotBeLocked: "com.microsoft:session-cannot-be-locked",
  timeout: "com.microsoft:timeout",
  messageNotFound: "com.microsoft:message-not-found",
  entityAlreadyExists: "com.microsoft:entity-already-exists",
  argumentError: "com.microsoft:argument-error",
  argumentOutOfRange: "com.microsoft:argument-out-of-range",
} as const;
export type ConditionName = (typeof Condition)[keyof typeof Condition];

const statusByCondition: Record<ConditionName, number> = {
  [Condition.notFound]: 404,
  [Condition.notAllowed]: 400,
  [Condition.notImplemented]: 501,
  [Condition.unauthorized]: 401,
  [Condition.decodeError]: 400,
  [Condition.internal]: 500,
  [Condition.messageSizeExceeded]: 413,
  [Condition.resourceLimitExceeded]: 403,
  [Condition.connectionForced]: 503,
  [Condition.lockLost]: 410,
  [Condition.sessionLockLost]: 410,
  [Condition.sessionCannotBeLocked]: 410,
  [Condition.timeout]: 408,
  [Condition.messageNotFound]: 404,
  [Condition.entityAlreadyExists]: 409,
  [Condition.argumentError]: 400,
  [Condition.argumentOutOfRange]: 400,
};

export class BrokerError extends Error {
  readonly code = "BrokerError";
  readonly statusCode: number;
  constructor(
    readonly condition: ConditionName,
    description: string,
  ) {
    super(description);
    this.name = "BrokerError";
    this.statusCode = statusByCondition[condition];
  }
}

export function isBrokerError(error: unknown): error is BrokerError {
  return error instanceof BrokerError;
}

export function entityNotFound(address: string): BrokerError {
  return new BrokerError(
    Condition.notFound,
    `The messaging entity '${address}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
  );
}

export function lockLost(): BrokerError {
  return new BrokerError(
    Condition.lockLost,
    "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.",
  );
}

export function sessionLockLost(sessionId: string): BrokerError {
  return new BrokerError(
    Condition.sessionLockLost,
    `The session lock has expired on the MessageSession '${sessionId}'. Accept a new MessageSession.`,
  );
}
