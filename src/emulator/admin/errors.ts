/**
 * Failures of the administration API: an HTTP status and the detail text the SDK shows
 * (`RestError.message`). The SDK derives its error code from the status alone: 401
 * UnauthorizedRequestError, 404 MessageEntityNotFoundError, 409 MessageEntityAlreadyExistsError,
 * 403 QuotaExceededError, 400 ServiceError, 503 ServerBusyError.
 */
import { Condition, isBrokerError } from "../broker/errors.js";

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "AdminError";
  }
}

export const badRequest = (message: string): AdminError => new AdminError(400, message);

export const notFound = (what: string): AdminError =>
  new AdminError(
    404,
    `The messaging entity '${what}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
  );

export const conflict = (what: string): AdminError =>
  new AdminError(
    409,
    `The messaging entity '${what}' already exists. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
  );

/** Any error thrown while handling a request, as an AdminError. */
export function toAdminError(error: unknown): AdminError {
  if (error instanceof AdminError) return error;
  if (isBrokerError(error)) {
    switch (error.condition) {
      case Condition.entityAlreadyExists:
        return new AdminError(409, error.message);
      case Condition.notFound:
        return new AdminError(404, error.message);
      case Condition.unauthorized:
        return new AdminError(401, error.message);
      case Condition.resourceLimitExceeded:
        return new AdminError(403, error.message);
      case Condition.internal:
        return new AdminError(500, error.message);
      default:
        return new AdminError(400, error.message);
    }
  }
  return new AdminError(500, error instanceof Error ? error.message : String(error));
}
