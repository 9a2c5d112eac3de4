import type { AccessToken, TokenCredential } from "@azure/identity";
import { z } from "zod";
import { ArmRoleAssignmentWriter, createAuthorizationClient } from "../azure/arm.js";
import { RoleAssignmentConflictError } from "../response/writer.js";
import type { RevocationStore } from "../response/revocations.js";
import { RestoreError, restoreAssignment } from "../usecases/restoreAssignment.js";
import { describeError } from "../errors.js";

/** The app role a caller needs to restore (defined on grantguard's app registration). */
export const SECURITY_ADMIN_ROLE = "GrantGuard.SecurityAdmin";

/** An HTTP request as the function sees it, stripped to what restore reads. */
export interface RestoreHttpRequest {
  readonly id: string;
  readonly headers: { get(name: string): string | null };
  readonly body: unknown;
}

export interface RestoreHttpResponse {
  readonly status: number;
  readonly jsonBody: unknown;
}

const clientPrincipalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })),
});

const bodySchema = z.object({ reason: z.string().trim().min(10, "say why the assignment comes back (10 characters at least)") });

/** The caller App Service Authentication vouches for: name and app roles. */
function callerOf(header: string | null): { name: string; roles: string[] } | null {
  if (!header) return null;
  let parsed;
  try {
    parsed = clientPrincipalSchema.safeParse(JSON.parse(Buffer.from(header, "base64").toString("utf8")));
  } catch {
    return null;
  }
  if (!parsed.success) return null;
  const p = parsed.data;
  const roleType = p.role_typ ?? "roles";
  const nameType = p.name_typ ?? "name";
  const claim = (typ: string) => p.claims.find((c) => c.typ === typ)?.val;
  const name = claim(nameType) ?? claim("preferred_username") ?? claim("http://schemas.microsoft.com/identity/claims/objectidentifier") ?? "unknown";
  return { name, roles: p.claims.filter((c) => c.typ === roleType || c.typ === "roles").map((c) => c.val) };
}

/** A credential that presents the caller's own ARM token (from the App Service token store). */
function callerCredential(token: string): TokenCredential {
  let expiresOnTimestamp = Date.now() + 5 * 60_000;
  try {
    const exp = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown }).exp;
    if (typeof exp === "number") expiresOnTimestamp = exp * 1000;
  } catch {
    // An opaque token: ARM judges it; the expiry guess only matters for caching.
  }
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp }) };
}

/**
 * POST /api/revocations/{id}/restore, for security admins: recreates a revoked assignment with the
 * caller's own Azure rights, so grantguard's identity never needs to create role assignments.
 */
export async function handleRestoreRequest(request: RestoreHttpRequest, deps: { revocations: RevocationStore; armEndpoint: string; now: () => Date }): Promise<RestoreHttpResponse> {
  const caller = callerOf(request.headers.get("x-ms-client-principal"));
  if (!caller) return { status: 401, jsonBody: { error: "sign in: App Service Authentication must front this endpoint" } };
  if (!caller.roles.includes(SECURITY_ADMIN_ROLE)) return { status: 403, jsonBody: { error: `restoring needs the app role ${SECURITY_ADMIN_ROLE}` } };
  const token = request.headers.get("x-ms-token-aad-access-token");
  if (!token) return { status: 403, jsonBody: { error: "restore runs with your own Azure credentials: enable the token store and request the https://management.azure.com/user_impersonation scope at sign-in" } };
  const body = bodySchema.safeParse(request.body);
  if (!body.success) return { status: 400, jsonBody: { error: body.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ") } };

  const writer = new ArmRoleAssignmentWriter(createAuthorizationClient(callerCredential(token), deps.armEndpoint));
  try {
    const result = await restoreAssignment({ revocations: deps.revocations, writer, now: deps.now }, request.id, { reason: body.data.reason, requestedBy: caller.name });
    const { findings: _findings, ...revocation } = result.revocation;
    return { status: 200, jsonBody: { status: result.status, revocation } };
  } catch (error) {
    if (error instanceof RestoreError) return { status: error.message.startsWith("no revocation") ? 404 : 409, jsonBody: { error: error.message } };
    if (error instanceof RoleAssignmentConflictError) return { status: 409, jsonBody: { error: error.message } };
    const status = (error as { statusCode?: unknown }).statusCode;
    if (status === 401 || status === 403) return { status: 403, jsonBody: { error: `Azure refused with your credentials: ${describeError(error)}` } };
    throw error;
  }
}
