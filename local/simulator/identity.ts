import { HttpError, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";
import type { TokenClaims, TokenIssuer } from "./jwt.js";
import type { TenantState } from "./tenant.js";

/** The Azure CLI's public client id: the client a caller without an app of its own is taken to use. */
const AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/**
 * The claims of a v1.0 token for `principalId` (for `audience`, default ARM): what the
 * managed-identity endpoint issues, and what a test's caller is taken to have presented.
 */
export function claimsFor(state: TenantState, principalId: string, audience: string | null): TokenClaims {
  const principal = state.principals.get(principalId.toLowerCase());
  const isUser = principal?.["@odata.type"] === "#microsoft.graph.user";
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: (audience ?? "https://management.azure.com").replace(/\/\.default$/, ""),
    iss: `https://sts.windows.net/${state.tenantId}/`,
    tid: state.tenantId,
    oid: principalId,
    sub: principalId,
    appid: principal && principal["@odata.type"] === "#microsoft.graph.servicePrincipal" ? principal.appId : AZURE_CLI_CLIENT_ID,
    idtyp: isUser ? "user" : "app",
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...(isUser && principal.userPrincipalName ? { upn: principal.userPrincipalName } : {}),
    ...(principal?.displayName ? { name: principal.displayName } : {}),
  };
}

/** What the managed-identity endpoint needs besides the simulator's context. */
export interface IdentityEndpointOptions {
  /** Signs the tokens it issues (the local Entra ID's key). */
  readonly issuer: TokenIssuer;
  /** The secret it expects in X-IDENTITY-HEADER. */
  readonly identityHeader: string;
  /** Object id of the managed identity a token is issued for when the request names none. */
  readonly defaultIdentityId: string;
}

/** The App Service style managed-identity endpoint (IDENTITY_ENDPOINT): GET /msi/token. */
export class IdentityEndpoint implements SimulatedService {
  constructor(
    private readonly context: SimulatorContext,
    private readonly options: IdentityEndpointOptions,
  ) {}

  /** "identity.token" for /msi/token, whatever the method. */
  routeOf(_method: string, lowerPath: string): string | null {
    return lowerPath === "/msi/token" ? "identity.token" : null;
  }

  /** Issues a token for the default identity or the one named by client_id / principal_id. */
  handle({ req, url }: ServiceRequest): ServiceResponse {
    if (req.headers["x-identity-header"] !== this.options.identityHeader) {
      throw new HttpError(401, { statusCode: 401, message: "The X-IDENTITY-HEADER header is missing or wrong" });
    }
    const resource = url.searchParams.get("resource");
    if (!resource) throw new HttpError(400, { statusCode: 400, message: "resource is required" });
    const state = this.context.state();
    const clientId = url.searchParams.get("client_id");
    const principalId = url.searchParams.get("principal_id");
    let identity = this.options.defaultIdentityId;
    if (clientId || principalId) {
      const match = [...state.principals.values()].find(
        (p) => p["@odata.type"] === "#microsoft.graph.servicePrincipal" && ((clientId !== null && p.appId?.toLowerCase() === clientId.toLowerCase()) || (principalId !== null && p.id.toLowerCase() === principalId.toLowerCase())),
      );
      if (!match) throw new HttpError(400, { statusCode: 400, message: "No managed identity matches the requested client_id/principal_id" });
      identity = match.id;
    }
    const now = Math.floor(Date.now() / 1000);
    const expiresOn = now + 3600;
    const claims: TokenClaims = { ...claimsFor(state, identity, resource), iat: now, nbf: now, exp: expiresOn };
    return { status: 200, body: { access_token: this.options.issuer.issue(claims), expires_on: String(expiresOn), resource, token_type: "Bearer", client_id: claims.appid ?? identity } };
  }
}
