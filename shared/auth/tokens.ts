import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type RemoteJWKSet } from "jose";
import { z } from "zod";
import type { AuthConfig } from "../config.js";
import { GrantGuardError } from "../errors.js";

/** The app role that may restore revoked assignments (and, later, exempt and acknowledge). */
export const SECURITY_ADMIN_ROLE = "GrantGuard.SecurityAdmin";
/** The app role that may read findings and the audit trail. */
export const AUDITOR_ROLE = "GrantGuard.Auditor";

/** Who called, as a validated access token says: never from a header anyone can set. */
export interface Caller {
  /** Object id: the immutable id of the user or service principal in the tenant. */
  readonly oid: string;
  readonly tid: string;
  /** Display name (mutable; for people to read, never to decide on). */
  readonly name: string | null;
  /** preferred_username: the user principal name for members (mutable; for records, never to decide on). */
  readonly upn: string | null;
  readonly roles: readonly string[];
}

/** The outcome of checking an Authorization header: a caller, or the status to answer and why (for the log, not the caller). */
export type TokenCheck = { readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

/** Checks bearer tokens for grantguard's API. */
export interface TokenValidator {
  /** Validates `Authorization: Bearer …` and requires one of `anyOfRoles`: 401 without a valid token, 403 without the role. */
  validate(authorization: string | null | undefined, anyOfRoles: readonly string[]): Promise<TokenCheck>;
}

/** The tenant's signing keys or metadata could not be read: not the caller's fault, so not a 401 (answer 503 and let them retry). */
export class TokenValidationUnavailableError extends GrantGuardError {}

export interface TokenValidatorOptions {
  /** Accepted difference between our clock and Entra's, for exp and nbf. Default 60 s. */
  readonly clockToleranceSeconds?: number;
  /** How long keys are trusted before the key set is read again (an unknown kid reads it sooner). Default one hour. */
  readonly keyCacheMaxAgeMs?: number;
  /** How long the OpenID metadata is kept. Default 24 hours, the refresh Microsoft suggests. */
  readonly metadataMaxAgeMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => Date;
}

const metadataSchema = z.looseObject({ issuer: z.string(), jwks_uri: z.url({ protocol: /^https$/ }) });
const claimsSchema = z.looseObject({
  ver: z.literal("2.0", { message: "not a v2.0 access token" }),
  tid: z.guid(),
  oid: z.guid(),
  name: z.string().optional(),
  preferred_username: z.string().optional(),
  roles: z.array(z.string()).optional(),
});

// Errors that mean "this token is not acceptable" (401); every other failure is ours or Entra's.
const TOKEN_ERRORS = [errors.JWTExpired, errors.JWTClaimValidationFailed, errors.JWTInvalid, errors.JWSInvalid, errors.JWSSignatureVerificationFailed, errors.JOSEAlgNotAllowed, errors.JOSENotSupported, errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys];
const isTokenError = (error: unknown): error is errors.JOSEError => TOKEN_ERRORS.some((kind) => error instanceof kind);

/**
 * Validates Entra ID v2.0 access tokens for grantguard's API the way Microsoft's identity
 * platform documents it: issuer from the tenant's own OpenID metadata, signature by a key of the
 * tenant's JWKS (RS256 only; the key set is cached and re-read when a token names an unknown
 * key), the key's own issuer, audience, tenant, lifetime with a small clock tolerance, then app roles.
 */
export function createTokenValidator(config: AuthConfig, options: TokenValidatorOptions = {}): TokenValidator {
  const expectedIssuer = `${config.authority}/${config.tenantId}/v2.0`;
  const metadataUrl = `${expectedIssuer}/.well-known/openid-configuration`;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const metadataMaxAgeMs = options.metadataMaxAgeMs ?? 24 * 3600_000;
  let discovered: { keys: RemoteJWKSet; at: number } | undefined;
  let discovering: Promise<RemoteJWKSet> | undefined;

  async function discover(): Promise<RemoteJWKSet> {
    let response: Response;
    try {
      response = await fetch(metadataUrl, { redirect: "error", signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
    } catch (error) {
      throw new TokenValidationUnavailableError(`cannot read the tenant's OpenID metadata at ${metadataUrl}`, { cause: error });
    }
    if (response.status !== 200) throw new TokenValidationUnavailableError(`the tenant's OpenID metadata at ${metadataUrl} answered HTTP ${response.status}`);
    const metadata = metadataSchema.safeParse(await response.json().catch(() => undefined));
    if (!metadata.success) throw new TokenValidationUnavailableError(`the OpenID metadata at ${metadataUrl} has no https jwks_uri or issuer`);
    // OpenID Connect Discovery: the issuer must be the one the document was fetched for; and the keys
    // must come from the same authority (a document pointing elsewhere is not trusted).
    if (metadata.data.issuer !== expectedIssuer) throw new TokenValidationUnavailableError(`the OpenID metadata names issuer ${metadata.data.issuer}, not ${expectedIssuer}`);
    if (new URL(metadata.data.jwks_uri).origin !== new URL(config.authority).origin) throw new TokenValidationUnavailableError(`the OpenID metadata's jwks_uri ${metadata.data.jwks_uri} is not on ${config.authority}`);
    return createRemoteJWKSet(new URL(metadata.data.jwks_uri), { timeoutDuration: timeoutMs, cacheMaxAge: options.keyCacheMaxAgeMs ?? 3600_000 });
  }

  async function keySet(): Promise<RemoteJWKSet> {
    const nowMs = Date.now();
    if (discovered && nowMs - discovered.at < metadataMaxAgeMs) return discovered.keys;
    // One discovery at a time; a failed one is not remembered, so the next call tries again.
    discovering ??= discover()
      .then((keys) => ((discovered = { keys, at: Date.now() }), keys))
      .finally(() => (discovering = undefined));
    return discovering;
  }

  return {
    async validate(authorization, anyOfRoles) {
      const token = /^Bearer +([^\s]+) *$/i.exec(authorization ?? "")?.[1];
      if (!token) return { ok: false, status: 401, reason: "no bearer token" };
      const keys = await keySet();
      const resolveKey: JWTVerifyGetKey = async (header, input) => {
        try {
          return await keys(header, input);
        } catch (error) {
          if (isTokenError(error)) throw error;
          throw new TokenValidationUnavailableError("cannot read the tenant's signing keys", { cause: error });
        }
      };
      let payload: JWTPayload;
      let kid: unknown;
      try {
        const verified = await jwtVerify(token, resolveKey, {
          algorithms: ["RS256"],
          issuer: expectedIssuer,
          audience: [...config.audiences],
          clockTolerance: options.clockToleranceSeconds ?? 60,
          requiredClaims: ["exp", "nbf", "iat"],
          typ: "JWT",
          ...(options.now ? { currentDate: options.now() } : {}),
        });
        payload = verified.payload;
        kid = verified.protectedHeader.kid;
      } catch (error) {
        if (isTokenError(error)) return { ok: false, status: 401, reason: `${error.code}: ${error.message}` };
        throw error;
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) return { ok: false, status: 401, reason: `claims: ${claims.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}` };
      const c = claims.data;
      // The tenant is a trust boundary: the tid claim must be the configured tenant and the one the issuer names.
      if (c.tid.toLowerCase() !== config.tenantId) return { ok: false, status: 401, reason: `token of tenant ${c.tid}` };
      // Microsoft's keys document names, per key, the issuer it signs for ({tenantid} templated for shared keys).
      const signingKey: Record<string, unknown> | undefined = keys.jwks()?.keys.find((k) => k.kid === kid);
      const keyIssuer = signingKey?.issuer;
      if (typeof keyIssuer === "string" && keyIssuer.replace(/\{tenantid\}/i, c.tid) !== payload.iss) return { ok: false, status: 401, reason: `the signing key is for issuer ${keyIssuer}` };
      const caller: Caller = { oid: c.oid.toLowerCase(), tid: c.tid.toLowerCase(), name: c.name ?? null, upn: c.preferred_username ?? null, roles: c.roles ?? [] };
      if (!anyOfRoles.some((role) => caller.roles.includes(role))) return { ok: false, status: 403, reason: `caller ${caller.oid} holds none of the app roles ${anyOfRoles.join(", ")}` };
      return { ok: true, caller };
    },
  };
}
