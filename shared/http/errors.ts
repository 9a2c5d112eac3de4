import { ConflictError, describeError, NotFoundError, statusOf } from "../errors.js";
import { RoleAssignmentWriteRefusedError } from "../response/writer.js";
import { InvalidContinuationTokenError } from "../findings/query.js";

/** What an HTTP function answers for a failure it can explain. */
export interface HttpFailure {
  readonly status: number;
  readonly jsonBody: { readonly error: string };
}

/**
 * The one mapping from grantguard's typed errors to HTTP statuses: a continuation token that is not
 * the query's 400, not found 404, a conflict 409,
 * Azure refusing the caller's own credentials 403. Anything else is null: the function fails and
 * the host answers 500, so a defect is never dressed up as the caller's mistake.
 */
export function httpFailureOf(error: unknown): HttpFailure | null {
  if (error instanceof InvalidContinuationTokenError) return { status: 400, jsonBody: { error: error.message } };
  if (error instanceof NotFoundError) return { status: 404, jsonBody: { error: error.message } };
  if (error instanceof ConflictError) return { status: 409, jsonBody: { error: error.message } };
  const status = error instanceof RoleAssignmentWriteRefusedError ? error.statusCode : statusOf(error);
  if (status === 409) return { status: 409, jsonBody: { error: describeError(error) } };
  if (status === 401 || status === 403) return { status: 403, jsonBody: { error: `Azure refused with your credentials: ${describeError(error)}` } };
  return null;
}
