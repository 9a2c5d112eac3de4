import { z } from "zod";
import type { TokenCredential } from "@azure/identity";
import type { RoleAssignmentWriter } from "../response/writer.js";
import { httpFailureOf } from "./errors.js";
import { ARM_TOKEN_HEADER, delegatedArmCredential } from "../auth/delegated.js";
import { SECURITY_ADMIN_ROLE, TokenValidationUnavailableError, type TokenValidator } from "../auth/tokens.js";
import type { RevocationStore } from "../response/revocations.js";
import { restoreAssignment } from "../usecases/restoreAssignment.js";
import { describeError } from "../errors.js";

/** An HTTP request as the function sees it, stripped to what restore reads. */
export interface RestoreHttpRequest {
  readonly id: string;
  readonly headers: { get(name: string): string | null };
  readonly body: unknown;
}

export interface RestoreHttpResponse {
  readonly status: number;
  readonly jsonBody: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Why, for the function's log only: what the caller is told stays generic where detail would help an attacker. */
  readonly detail?: string;
}

export interface RestoreHttpDependencies {
  readonly revocations: RevocationStore;
  /** Null when the Entra ID settings are absent: then nobody can restore over HTTP (fail closed). */
  readonly tokens: TokenValidator | null;
  /** ARM writes with a credential of the caller's, built by the composition root. */
  readonly writerFor: (credential: TokenCredential) => RoleAssignmentWriter;
  readonly now: () => Date;
}

const bodySchema = z.object({ reason: z.string().trim().min(10, "say why the assignment comes back (10 characters at least)") });

// RFC 6750: no error code when no credentials were sent; invalid_token when they were and failed.
const CHALLENGE = 'Bearer realm="grantguard"';

/**
 * POST /api/revocations/{id}/restore, for callers holding the app role GrantGuard.SecurityAdmin:
 * recreates a revoked assignment with the caller's own Azure rights, so grantguard's identity
 * never needs to create role assignments. Identity comes only from an Entra ID access token
 * validated here, never from a header; who may restore is decided before anything is looked up,
 * so a caller without the role cannot tell an existing revocation from an unknown one.
 */
export async function handleRestoreRequest(request: RestoreHttpRequest, deps: RestoreHttpDependencies): Promise<RestoreHttpResponse> {
  if (!deps.tokens) {
    return { status: 503, jsonBody: { error: "restoring over HTTP is not configured: set GRANTGUARD_AUTH_TENANT_ID and GRANTGUARD_AUTH_AUDIENCE" }, detail: "no Entra ID settings" };
  }
  let check;
  try {
    check = await deps.tokens.validate(request.headers.get("authorization"), [SECURITY_ADMIN_ROLE]);
  } catch (error) {
    if (!(error instanceof TokenValidationUnavailableError)) throw error;
    return { status: 503, jsonBody: { error: "cannot check access tokens right now; try again shortly" }, headers: { "retry-after": "30" }, detail: describeError(error) };
  }
  if (!check.ok && check.status === 401) {
    const sent = request.headers.get("authorization") !== null;
    return {
      status: 401,
      jsonBody: { error: sent ? "the access token was not accepted" : "sign in: send an Entra ID access token for grantguard's API as Authorization: Bearer …" },
      headers: { "www-authenticate": sent ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE },
      detail: check.reason,
    };
  }
  if (!check.ok) {
    return { status: 403, jsonBody: { error: `restoring needs the app role ${SECURITY_ADMIN_ROLE}` }, headers: { "www-authenticate": `${CHALLENGE}, error="insufficient_scope"` }, detail: check.reason };
  }
  const caller = check.caller;

  const body = bodySchema.safeParse(request.body);
  if (!body.success) return { status: 400, jsonBody: { error: body.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ") } };
  const arm = delegatedArmCredential(request.headers.get(ARM_TOKEN_HEADER), caller, Math.floor(deps.now().getTime() / 1000));
  if (!arm.ok) return { status: arm.status, jsonBody: { error: arm.reason } };

  const writer = deps.writerFor(arm.credential);
  // Recorded by the immutable object id as well as the name people read.
  const requestedBy = caller.upn ? `${caller.upn} (${caller.oid})` : caller.oid;
  try {
    const result = await restoreAssignment({ revocations: deps.revocations, writer, now: deps.now }, request.id, { reason: body.data.reason, requestedBy });
    const { findings: _findings, ...revocation } = result.revocation;
    return { status: 200, jsonBody: { status: result.status, revocation }, detail: `by ${requestedBy}` };
  } catch (error) {
    const failure = httpFailureOf(error);
    if (failure) return failure;
    throw error;
  }
}
