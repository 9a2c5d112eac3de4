import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { GraphDirectoryObject } from "../../shared/model/azure.js";
import { RawBody, type ServiceRequest, type ServiceResponse, type SimulatedService } from "./http.js";
import { createThrowawayKey, signJwt, TokenIssuer, v1Issuer, type SigningKey } from "./jwt.js";
import type { TenantState } from "./tenant.js";

/** The Azure CLI's public client id: the client a demo user signs in with (azp / appid). */
const AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
// Microsoft's own APIs keep v1.0 tokens whatever endpoint issued them: ARM, Microsoft Graph and Key Vault.
const V1_RESOURCES = new Set(["https://management.azure.com", "https://management.core.windows.net", "https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000", "https://vault.azure.net"]);
type GraphUser = Extract<GraphDirectoryObject, { "@odata.type": "#microsoft.graph.user" }>;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An authorization code issued by the sign-in flow, waiting for its one redemption. */
interface AuthorizationCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly userId: string;
  readonly audience: string;
  readonly scope: string;
  readonly challenge: string;
  readonly expiresAt: number;
  redeemed: boolean;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What a demo user signs in for. */
export interface UserTokenRequest {
  /** The user's object id or user principal name. */
  readonly userId: string;
  /** The API the token is for: its client id (v2.0 tokens), or a Microsoft resource such as https://management.azure.com. */
  readonly audience: string;
  /** App roles the user holds on that API (the snapshot has no app role assignments, so the caller says). */
  readonly roles?: readonly string[];
  /** Delegated scopes (scp); default user_impersonation. */
  readonly scopes?: readonly string[];
  /** Lifetime from now; negative for a token that has already expired. Default 3600. */
  readonly expiresInSeconds?: number;
  /** The client application the user signed in with (azp / appid); default the Azure CLI. */
  readonly clientId?: string;
  /** Token format: 2 for an API registered with requestedAccessTokenVersion 2 (default), 1 for v1.0. Microsoft's APIs always get 1. */
  readonly version?: 1 | 2;
}

/** How a test token is forged: another issuer, a key nobody published, or no signature at all. */
export interface TokenForgery {
  readonly issuer?: string;
  /** foreignKey: the real key id, another key's signature; unknownKey: a key id the key set never had; none: alg "none", no signature. */
  readonly signature?: "foreignKey" | "unknownKey" | "none";
}

/** An Entra ID error body (`error`, `error_description` with its AADSTS code, trace and correlation ids). */
function entraError(baseUrl: string, status: number, error: string, code: number, description: string): { status: number; body: unknown } {
  const now = new Date();
  const timestamp = `${now.toISOString().slice(0, 10)} ${now.toISOString().slice(11, 19)}Z`;
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${baseUrl}/error?code=${code}`,
    },
  };
}

/** Names a request to the local Entra ID, or null when the path is not one of its endpoints. */
export function entraRouteName(method: string, lowerPath: string): string | null {
  if (lowerPath === "/_simulator/tokens") return method === "POST" ? "entra.localToken" : null;
  const match = /^\/[^/]+\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/token|oauth2\/v2\.0\/authorize)$/.exec(lowerPath);
  if (!match) return null;
  if (match[1] === "oauth2/v2.0/token") return method === "POST" ? "entra.token" : null;
  // GET shows the sign-in page; POST is that page's form (the user picked), answered with the redirect.
  if (match[1] === "oauth2/v2.0/authorize") return method === "GET" ? "entra.authorize" : method === "POST" ? "entra.signIn" : null;
  if (method !== "GET") return null;
  return match[1] === "discovery/v2.0/keys" ? "entra.keys" : "entra.openidConfiguration";
}

/**
 * The local Entra ID: the tenant's OpenID Connect metadata, its signing keys (JWKS), and access
 * tokens for the tenant's users — v2.0 tokens for grantguard's API with app roles, v1.0 tokens
 * for ARM and Graph — all signed with one RSA key the managed-identity endpoint uses too, so
 * ARM accepts a user's own token exactly as it accepts grantguard's.
 */
export class SimulatedEntra implements SimulatedService {
  /** The v1.0 tokens ARM and Graph accept: issued by the managed-identity endpoint and here, verified by ARM and Graph. */
  readonly tokens: TokenIssuer;
  #foreignKey: SigningKey | undefined;
  /** Single-page applications registered here: their redirect URIs, and the app roles assigned to users on them. */
  readonly #spas = new Map<string, { readonly redirectUris: Set<string>; readonly roles: Map<string, readonly string[]>; readonly signInUsers: string[] }>();
  /** Authorization codes issued and not yet redeemed (or redeemed: a second redemption is refused). */
  readonly #codes = new Map<string, AuthorizationCode>();

  constructor(
    private readonly signingKey: SigningKey,
    private readonly state: () => TenantState,
    private readonly baseUrl: () => string,
  ) {
    if (!signingKey.certificate) throw new TypeError("the local Entra ID publishes its signing key with a certificate (x5c)");
    this.tokens = new TokenIssuer(signingKey, () => this.state().tenantId);
  }

  /** The tenant's v2.0 issuer: `{authority}/{tenant id}/v2.0`, the simulator's URL standing in for https://login.microsoftonline.com. */
  get issuer(): string {
    return `${this.baseUrl()}/${this.state().tenantId}/v2.0`;
  }

  /** The authority grantguard points GRANTGUARD_AUTH_AUTHORITY at (the simulator's URL). */
  get authority(): string {
    return this.baseUrl();
  }

  /**
   * An access token for a user of the tenant, as Entra ID issues it after a sign-in: v2.0 for an
   * API (aud is its client id), v1.0 for ARM and Graph. Refuses users that do not exist or are
   * disabled, as Entra does. `forgery` makes the invalid tokens tests need.
   */
  issueUserToken(request: UserTokenRequest, forgery: TokenForgery = {}): string {
    const user = this.#user(request.userId);
    if (!user) throw new RangeError(`AADSTS50034: the user account '${request.userId}' does not exist in tenant ${this.state().tenantId}`);
    if (user.accountEnabled === false) throw new RangeError(`AADSTS50057: the user account '${request.userId}' is disabled`);
    const audience = request.audience.replace(/\/\.default$/, "");
    const version = V1_RESOURCES.has(audience.replace(/\/+$/, "").toLowerCase()) ? 1 : (request.version ?? 2);
    if (version === 2 && !GUID.test(audience)) throw new RangeError(`v2.0 access tokens carry the API's client id as aud; '${audience}' is not one`);
    const tenantId = this.state().tenantId;
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (request.expiresInSeconds ?? 3600);
    const iat = Math.min(now, exp - 300);
    const upn = user.userPrincipalName ?? undefined;
    const name = user.displayName ?? undefined;
    const clientId = request.clientId ?? AZURE_CLI_CLIENT_ID;
    const roles = request.roles?.length ? { roles: [...request.roles] } : {};
    const common = {
      aud: audience,
      iat,
      nbf: iat,
      exp,
      aio: randomBytes(48).toString("base64"),
      ...(name ? { name } : {}),
      oid: user.id,
      rh: `0.${randomBytes(24).toString("base64url")}.`,
      ...roles,
      scp: (request.scopes ?? ["user_impersonation"]).join(" "),
      // sub is pairwise: the same user has another subject in every application.
      sub: createHash("sha256").update(`${audience}|${user.id}`).digest("base64url").slice(0, 43),
      tid: tenantId,
      uti: randomBytes(16).toString("base64url"),
    };
    const payload =
      version === 2
        ? { ...common, iss: forgery.issuer ?? this.issuer, azp: clientId, azpacr: "0", ...(upn ? { preferred_username: upn } : {}), ver: "2.0" }
        : { ...common, iss: forgery.issuer ?? v1Issuer(tenantId), acr: "1", amr: ["pwd"], appid: clientId, appidacr: "0", idtyp: "user", ipaddr: "127.0.0.1", ...(upn ? { unique_name: upn, upn } : {}), ver: "1.0" };
    const key = forgery.signature === "none" ? null : forgery.signature === "foreignKey" ? this.#foreign() : forgery.signature === "unknownKey" ? createThrowawayKey(randomBytes(20).toString("base64url")) : this.signingKey;
    // v1.0 tokens carry x5t beside kid; v2.0 tokens only kid.
    const header = key === null ? { typ: "JWT", alg: "none" } : { typ: "JWT", alg: "RS256", ...(version === 1 ? { x5t: key.kid } : {}), kid: key.kid };
    return signJwt(header, payload, key);
  }

  /**
   * Registers a single-page application (public client) with one of its redirect URIs, as an app
   * registration's "spa" platform does: only a registered URI receives codes, and the token
   * endpoint answers cross-origin requests from its origin.
   */
  registerSpa(clientId: string, redirectUri: string): void {
    const app = this.#spas.get(clientId.toLowerCase()) ?? { redirectUris: new Set<string>(), roles: new Map<string, readonly string[]>(), signInUsers: [] };
    app.redirectUris.add(redirectUri);
    this.#spas.set(clientId.toLowerCase(), app);
  }

  /**
   * Assigns app roles of an application to a user (an app role assignment; the snapshot has none)
   * and lists the user on the local sign-in page. Tokens from the sign-in flow carry these roles.
   */
  assignAppRoles(clientId: string, userId: string, roles: readonly string[]): void {
    const app = this.#spas.get(clientId.toLowerCase());
    if (!app) throw new RangeError(`no application ${clientId} is registered here`);
    const user = this.#user(userId);
    if (!user) throw new RangeError(`AADSTS50034: the user account '${userId}' does not exist in tenant ${this.state().tenantId}`);
    app.roles.set(user.id.toLowerCase(), [...roles]);
    if (!app.signInUsers.includes(user.id)) app.signInUsers.push(user.id);
  }

  /** Names a request to one of its endpoints (see entraRouteName); null for any other. */
  routeOf(method: string, lowerPath: string): string | null {
    return entraRouteName(method, lowerPath);
  }

  /** Answers one of the routes entraRouteName names. */
  handle({ route, url, body, req }: ServiceRequest): ServiceResponse {
    if (route === "entra.localToken") return this.#localToken(body);
    const tenant = decodeURIComponent(url.pathname.split("/")[1] ?? "");
    const tenantId = this.state().tenantId;
    if (tenant.toLowerCase() !== tenantId.toLowerCase()) {
      return entraError(this.baseUrl(), 400, "invalid_tenant", 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. (The local Entra ID serves the tenant-specific endpoints of tenant ${tenantId} only.)`);
    }
    if (route === "entra.openidConfiguration") return { status: 200, body: this.#openidConfiguration(), headers: { "cache-control": "max-age=86400, private" } };
    if (route === "entra.keys") return { status: 200, body: this.#keys(), headers: { "cache-control": "max-age=86400, private" } };
    if (route === "entra.authorize" || route === "entra.signIn") return this.#authorize(route, url, body);
    const grant = body && typeof body === "object" ? String((body as Record<string, unknown>).grant_type ?? "") : "";
    if (grant === "authorization_code") return this.#redeem(body as Record<string, unknown>, req.headers.origin);
    return entraError(this.baseUrl(), 400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${grant}'. The local Entra ID signs no one in over OAuth: tests call simulator.entra.issueUserToken, and a running simulator issues demo tokens at POST /_simulator/tokens.`);
  }

  // The authorization endpoint of the auth code flow with PKCE (Microsoft identity platform,
  // v2-oauth2-auth-code-flow): errors before the redirect URI is known good are shown, never
  // redirected; later ones go back to the app as error and error_description.
  #authorize(route: string, url: URL, body: unknown): ServiceResponse {
    const form = route === "entra.signIn" && body && typeof body === "object" ? (body as Record<string, unknown>) : {};
    const param = (name: string) => {
      const value = route === "entra.signIn" ? form[name] : url.searchParams.get(name);
      return typeof value === "string" ? value : "";
    };
    const clientId = param("client_id");
    const redirectUri = param("redirect_uri");
    if (!clientId) return this.#errorPage(900144, "The request body must contain the following parameter: 'client_id'.");
    const app = this.#spas.get(clientId.toLowerCase());
    if (!app) return this.#errorPage(700016, `Application with identifier '${clientId}' was not found in the directory '${this.state().tenantId}'.`);
    if (!app.redirectUris.has(redirectUri)) return this.#errorPage(50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`);
    const state = param("state");
    const back = (values: Record<string, string>) => {
      const target = new URL(redirectUri);
      const answer = new URLSearchParams({ ...values, ...(state ? { state } : {}) });
      const fragment = param("response_mode") === "fragment";
      return { status: 302, body: new RawBody("", "text/html; charset=utf-8"), headers: { location: fragment ? `${target.href.replace(/#.*$/, "")}#${answer}` : `${target.origin}${target.pathname}?${answer}`, "cache-control": "no-store" } };
    };
    const fail = (error: string, code: number, description: string) => back({ error, error_description: `AADSTS${code}: ${description}` });
    if (param("response_type") !== "code") return fail("unsupported_response_type", 9002313, "response_type must be 'code' for the authorization code flow.");
    const mode = param("response_mode");
    if (mode !== "" && mode !== "query" && mode !== "fragment") return fail("invalid_request", 9002313, `response_mode '${mode}' is not supported here (query or fragment).`);
    const scopes = param("scope").split(" ").filter((x) => x !== "");
    const apiScope = scopes.find((x) => /^api:\/\/[0-9a-f-]{36}\/[\w.]+$/i.test(x) || /^[0-9a-f-]{36}\/\.default$/i.test(x));
    if (!apiScope) return fail("invalid_scope", 70011, `The provided value for the input parameter 'scope' is not valid: ask for an API's scope (api://{client id}/{scope}).`);
    // Single-page applications must use PKCE; only S256 is accepted here (the stricter of the two methods Entra knows).
    const challenge = param("code_challenge");
    if (!challenge) return fail("invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.");
    if (param("code_challenge_method") !== "S256") return fail("invalid_request", 9002325, "Proof Key for Code Exchange with code_challenge_method S256 is required.");
    if (route === "entra.authorize") return { status: 200, body: new RawBody(this.#signInPage(url, app.signInUsers), "text/html; charset=utf-8"), headers: { "cache-control": "no-store", "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" } };
    const user = this.#user(param("login_hint"));
    if (!user || !app.signInUsers.includes(user.id)) return fail("access_denied", 50034, "The user account does not exist in this directory or may not sign in to this application.");
    if (user.accountEnabled === false) return fail("access_denied", 50057, "The user account is disabled.");
    const code = randomBytes(48).toString("base64url");
    const audience = apiScope.startsWith("api://") ? apiScope.slice("api://".length).split("/")[0]! : apiScope.split("/")[0]!;
    this.#codes.set(code, { clientId: clientId.toLowerCase(), redirectUri, userId: user.id, audience, scope: apiScope, challenge, expiresAt: Date.now() + 10 * 60_000, redeemed: false });
    return back({ code });
  }

  // The token endpoint's authorization_code grant: the code once, unexpired, for the same client and
  // redirect URI, with the verifier whose S256 hash is the challenge. A cross-origin request is
  // answered with CORS headers only for a registered SPA redirect URI's origin.
  #redeem(form: Record<string, unknown>, origin: string | undefined): ServiceResponse {
    const param = (name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");
    const app = this.#spas.get(param("client_id").toLowerCase());
    const allowed = app && origin && [...app.redirectUris].some((u) => new URL(u).origin === origin);
    const cors: Record<string, string> = allowed ? { "access-control-allow-origin": origin, vary: "Origin" } : {};
    const error = (status: number, kind: string, code: number, description: string) => {
      const e = entraError(this.baseUrl(), status, kind, code, description);
      return { ...e, headers: cors };
    };
    if (!app) return error(400, "unauthorized_client", 700016, `Application with identifier '${param("client_id")}' was not found in the directory '${this.state().tenantId}'.`);
    if (origin && !allowed) return error(400, "invalid_request", 9002326, "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type.");
    const grant = this.#codes.get(param("code"));
    if (!grant || grant.clientId !== param("client_id").toLowerCase()) return error(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the code is not one issued to this client.");
    if (grant.redeemed) return error(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.");
    grant.redeemed = true;
    if (grant.expiresAt < Date.now()) return error(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.");
    if (grant.redirectUri !== param("redirect_uri")) return error(400, "invalid_grant", 50011, `The redirect URI '${param("redirect_uri")}' does not match the one the code was issued for.`);
    const verifier = param("code_verifier");
    if (!verifier) return error(400, "invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.");
    if (createHash("sha256").update(verifier).digest("base64url") !== grant.challenge) return error(400, "invalid_grant", 50148, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.");
    const roles = app.roles.get(grant.userId.toLowerCase()) ?? [];
    const token = this.issueUserToken({ userId: grant.userId, audience: grant.audience, roles, clientId: grant.clientId, expiresInSeconds: 3600 });
    return { status: 200, body: { token_type: "Bearer", scope: grant.scope, expires_in: 3600, ext_expires_in: 3600, access_token: token }, headers: { ...cors, "cache-control": "no-store" } };
  }

  #errorPage(code: number, description: string): ServiceResponse {
    const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Sign in: error</title><main><h1>Sorry, but we're having trouble signing you in.</h1><p>AADSTS${code}: ${escapeHtml(description)}</p></main></html>`;
    return { status: 400, body: new RawBody(html, "text/html; charset=utf-8"), headers: { "cache-control": "no-store" } };
  }

  // The local stand-in for Entra ID's sign-in screen: one button per user the application knows, the request's parameters carried along.
  #signInPage(url: URL, userIds: readonly string[]): string {
    const hidden = [...url.searchParams].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join("");
    const users = userIds.flatMap((id) => {
      const u = this.#user(id);
      if (!u) return [];
      const roles = [...this.#spas.values()].flatMap((a) => a.roles.get(id.toLowerCase()) ?? []);
      const label = `${u.displayName ?? u.userPrincipalName ?? id} (${u.userPrincipalName ?? id}): ${roles.length ? roles.join(", ") : "no app role"}`;
      return [`<li><button type="submit" name="login_hint" value="${escapeHtml(u.userPrincipalName ?? id)}">${escapeHtml(label)}</button></li>`];
    });
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title><style>body{font:16px system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem;margin:.25rem 0;cursor:pointer}</style></head><body><main><h1>Sign in</h1><p>Local Entra ID of tenant ${escapeHtml(this.state().tenantId)}: pick a demo user.</p><form method="post"><ul>${users.join("")}</ul>${hidden}</form></main></body></html>`;
  }

  #openidConfiguration(): unknown {
    const base = `${this.baseUrl()}/${this.state().tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: this.issuer,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      claims_supported: ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
      tenant_region_scope: "WW",
      cloud_instance_name: "microsoftonline.com",
      cloud_graph_host_name: "graph.windows.net",
      msgraph_host: "graph.microsoft.com",
      rbac_url: "https://pas.windows.net",
    };
  }

  #keys(): unknown {
    const jwk = this.signingKey.publicKey.export({ format: "jwk" });
    return { keys: [{ kty: "RSA", use: "sig", kid: this.signingKey.kid, x5t: this.signingKey.kid, n: jwk.n, e: jwk.e, x5c: [this.signingKey.certificate], issuer: this.issuer }] };
  }

  // POST /_simulator/tokens {userId, audience, roles?, scopes?, expiresInSeconds?}: a demo user's
  // token while npm start runs (the local stand-in for signing in; not an Entra endpoint).
  #localToken(body: unknown): { status: number; body: unknown } {
    const input = (body ?? {}) as Record<string, unknown>;
    const strings = (value: unknown) => Array.isArray(value) && value.every((v) => typeof v === "string");
    const problem =
      typeof input.userId !== "string" || input.userId === "" ? "userId (an object id or user principal name) is required"
      : typeof input.audience !== "string" || input.audience === "" ? "audience (an API's client id, or https://management.azure.com) is required"
      : input.roles !== undefined && !strings(input.roles) ? "roles must be an array of strings"
      : input.scopes !== undefined && !strings(input.scopes) ? "scopes must be an array of strings"
      : input.expiresInSeconds !== undefined && !(typeof input.expiresInSeconds === "number" && Number.isInteger(input.expiresInSeconds) && input.expiresInSeconds > 0 && input.expiresInSeconds <= 86_400) ? "expiresInSeconds must be an integer from 1 to 86400"
      : null;
    if (problem) return { status: 400, body: { error: "invalid_request", error_description: problem } };
    const request: UserTokenRequest = {
      userId: input.userId as string,
      audience: input.audience as string,
      ...(input.roles ? { roles: input.roles as string[] } : {}),
      ...(input.scopes ? { scopes: input.scopes as string[] } : {}),
      ...(input.expiresInSeconds ? { expiresInSeconds: input.expiresInSeconds as number } : {}),
    };
    try {
      const token = this.issueUserToken(request);
      return { status: 200, body: { token_type: "Bearer", expires_in: request.expiresInSeconds ?? 3600, access_token: token } };
    } catch (error) {
      if (error instanceof RangeError) return { status: 400, body: { error: "invalid_request", error_description: error.message } };
      throw error;
    }
  }

  #user(userId: string): GraphUser | undefined {
    const wanted = userId.toLowerCase();
    const users = [...this.state().principals.values()].filter((p): p is GraphUser => p["@odata.type"] === "#microsoft.graph.user");
    return users.find((u) => u.id.toLowerCase() === wanted || u.userPrincipalName?.toLowerCase() === wanted);
  }

  #foreign(): SigningKey {
    this.#foreignKey ??= createThrowawayKey(this.signingKey.kid);
    return this.#foreignKey;
  }
}
