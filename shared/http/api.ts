import { describeError } from "../errors.js";
import { TokenValidationUnavailableError, type Caller, type TokenValidator } from "../auth/tokens.js";
import { httpFailureOf } from "./errors.js";

/** An HTTP request as grantguard's API handlers see it: free of @azure/functions types. */
export interface ApiRequest {
  /** Route parameters (already decoded by the host). */
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: URLSearchParams;
  readonly headers: { get(name: string): string | null };
  /** The parsed JSON body, or undefined when there is none or it is not JSON. */
  readonly body?: unknown;
}

/** What a handler answers: JSON, or a body (text or a stream) with its headers. */
export interface ApiResponse {
  readonly status: number;
  readonly jsonBody?: unknown;
  readonly body?: string | AsyncIterable<Uint8Array>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Why, for the function's log only. */
  readonly detail?: string;
}

// RFC 6750: no error code when no credentials were sent; invalid_token when they were and failed.
const CHALLENGE = 'Bearer realm="grantguard"';

/**
 * Checks the caller's Entra ID access token for one of `roles`, before anything is looked up: 401
 * without a valid token (a forged x-ms-client-principal is never read), 403 without the role, 503
 * when the tenant's keys cannot be read or the API has no Entra ID settings (fail closed).
 */
export async function authorize(request: ApiRequest, tokens: TokenValidator | null, roles: readonly string[], what: string): Promise<{ readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly response: ApiResponse }> {
  if (!tokens) {
    return { ok: false, response: { status: 503, jsonBody: { error: "the API is not configured: set GRANTGUARD_AUTH_TENANT_ID and GRANTGUARD_AUTH_AUDIENCE" }, detail: "no Entra ID settings" } };
  }
  let check;
  try {
    check = await tokens.validate(request.headers.get("authorization"), roles);
  } catch (error) {
    if (!(error instanceof TokenValidationUnavailableError)) throw error;
    return { ok: false, response: { status: 503, jsonBody: { error: "cannot check access tokens right now; try again shortly" }, headers: { "retry-after": "30" }, detail: describeError(error) } };
  }
  if (check.ok) return check;
  if (check.status === 401) {
    const sent = request.headers.get("authorization") !== null;
    return {
      ok: false,
      response: {
        status: 401,
        jsonBody: { error: sent ? "the access token was not accepted" : "sign in: send an Entra ID access token for grantguard's API as Authorization: Bearer …" },
        headers: { "www-authenticate": sent ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE },
        detail: check.reason,
      },
    };
  }
  return { ok: false, response: { status: 403, jsonBody: { error: `${what} needs the app role ${roles.join(" or ")}` }, headers: { "www-authenticate": `${CHALLENGE}, error="insufficient_scope"` }, detail: check.reason } };
}

/** Runs a handler's work, answering the errors the one mapping (errors.ts) knows; anything else fails the function (500). */
export async function answering(work: () => Promise<ApiResponse>): Promise<ApiResponse> {
  try {
    return await work();
  } catch (error) {
    const failure = httpFailureOf(error);
    if (failure) return failure;
    throw error;
  }
}

/** A 400 that says which parameter is wrong and why. */
export function badRequest(message: string): ApiResponse {
  return { status: 400, jsonBody: { error: message } };
}
