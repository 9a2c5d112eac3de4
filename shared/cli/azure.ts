import { AggregateAuthenticationError, AuthenticationError, CredentialUnavailableError, DefaultAzureCredential, ManagedIdentityCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from "@azure/identity";
import { z } from "zod";
import { createOperatorServices, type OperatorServices } from "../azure/compose.js";
import { TokenTimeoutError, withTokenTimeout } from "../azure/credential.js";
import { ConfigError } from "../errors.js";
import { NoCredentialError, RelaunchNeeded, SignInError } from "./errors.js";
import { displayPath, readLiveLocalAzure, type LocalAzureFile } from "./local.js";
import type { VerbContext } from "./verb.js";

// How the command line reaches Azure: the operator's own identity (DefaultAzureCredential: az
// login, a service principal, a managed identity), or, in a development checkout with `npm start`
// running and no GRANTGUARD_TABLE_ENDPOINT set, that local Azure as one of its users.

const ARM_RESOURCES = ["https://management.azure.com", "https://management.core.windows.net"];
const GRAPH_RESOURCES = ["https://graph.microsoft.com"];
const TOKEN_TIMEOUT_MS = 60_000;

const NO_CREDENTIAL =
  "no Azure credential: sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), or run where a managed identity is available (--verbose lists what was tried)";

const firstLine = (text: string) => text.split(/\r?\n/)[0] ?? "";

/** Why a credential failed: Entra ID's own description when it answered, else the first line of the message. */
function reasonOf(error: unknown): string {
  if (error instanceof AuthenticationError && error.errorResponse.errorDescription) return firstLine(error.errorResponse.errorDescription);
  return firstLine(error instanceof Error ? error.message : String(error));
}

/** Turns @azure/identity's failures into the command line's typed ones (no credential at all, or a sign-in that failed); anything else as it is. */
export function signInFailure(error: unknown): unknown {
  if (error instanceof TokenTimeoutError) return new SignInError(`no Azure token: ${error.message}; is the identity endpoint reachable?`, { cause: error });
  if (error instanceof CredentialUnavailableError) return new NoCredentialError(NO_CREDENTIAL, { cause: error });
  if (error instanceof AggregateAuthenticationError) {
    const errors: unknown[] = error.errors;
    const real = errors.find((e) => !(e instanceof CredentialUnavailableError));
    return real === undefined ? new NoCredentialError(NO_CREDENTIAL, { cause: error }) : new SignInError(`Azure sign-in failed: ${reasonOf(real)}`, { cause: error });
  }
  if (error instanceof AuthenticationError) return new SignInError(`Azure sign-in failed: ${reasonOf(error)}`, { cause: error });
  return error;
}

/** A credential whose failures are typed for the command line, and that never waits longer than the time-out. */
function explained(credential: TokenCredential): TokenCredential {
  const bounded = withTokenTimeout(credential, TOKEN_TIMEOUT_MS);
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await bounded.getToken(scopes, options);
      } catch (error) {
        throw signInFailure(error);
      }
    },
  };
}

/** The operator's own credential, as the Azure tools find it. */
export function operatorCredential(): TokenCredential {
  return explained(new DefaultAzureCredential());
}

const resourceOf = (scopes: string | string[]) => (Array.isArray(scopes) ? (scopes[0] ?? "") : scopes).replace(/\/\.default$/, "").replace(/\/+$/, "");

/**
 * The local Azure's user, as the command line signs in: ARM and Graph tokens for the operator
 * from the local Entra ID (the tokens a person's `az login` would give), and grantguard's tables
 * through the managed-identity endpoint, as the function app reads them.
 */
export function localOperatorCredential(local: LocalAzureFile): TokenCredential {
  // The managed-identity credential reads its endpoint from the environment (App Service style).
  process.env.IDENTITY_ENDPOINT = local.managedIdentity.endpoint;
  process.env.IDENTITY_HEADER = local.managedIdentity.header;
  const tables = new ManagedIdentityCredential();
  return explained({
    async getToken(scopes, options) {
      const resource = resourceOf(scopes);
      if (![...ARM_RESOURCES, ...GRAPH_RESOURCES].includes(resource)) return tables.getToken(scopes, options);
      const response = await fetch(local.operator.tokenEndpoint, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ userId: local.operator.userId, audience: resource }),
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
      const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error_description?: unknown };
      if (!response.ok || typeof body.access_token !== "string") {
        const why = typeof body.error_description === "string" ? body.error_description : `HTTP ${response.status}`;
        throw new SignInError(`the local Entra ID did not sign ${local.operator.userId} in: ${why}`);
      }
      const lifetime = typeof body.expires_in === "number" ? body.expires_in : 300;
      return { token: body.access_token, expiresOnTimestamp: Date.now() + lifetime * 1000 };
    },
  });
}

const httpsUrl = z.url({ protocol: /^https$/, message: "must be an https:// URL" }).transform((u) => u.replace(/\/+$/, ""));
const tableName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name");
const settingsSchema = z.object({
  GRANTGUARD_TABLE_ENDPOINT: httpsUrl,
  GRANTGUARD_REVOCATIONS_TABLE: tableName.default("revocations"),
  GRANTGUARD_ALERTS_TABLE: tableName.default("alerts"),
  GRANTGUARD_ARM_ENDPOINT: httpsUrl.default("https://management.azure.com"),
  GRANTGUARD_AUDIT_TABLE: tableName.default("auditTrail"),
});

/** What a response verb needs from the operator's identity, named in a refusal. */
export interface OperatorNeeds {
  /** On grantguard's storage account, e.g. "Storage Table Data Reader". */
  readonly tables: string;
  /** On ARM, when the verb writes there. */
  readonly arm?: string;
}

/** The operator, connected: grantguard's stores and ARM, and who they are. */
export interface Operator extends OperatorServices {
  /** Who the operator signs in as: user principal name, else object id (from the ARM token). */
  who(): Promise<string>;
}

/**
 * The operator's credential and grantguard's settings: from the environment (GRANTGUARD_TABLE_ENDPOINT
 * set) with the operator's own sign-in, or else a running `npm start`'s local Azure (said on stderr).
 * Asks for a new process (RelaunchNeeded) when this one does not trust the local Azure's certificate.
 */
export async function operatorConnection(context: VerbContext): Promise<{ readonly credential: TokenCredential; readonly settings: Readonly<Record<string, string | undefined>> }> {
  const env = process.env;
  if (env.GRANTGUARD_TABLE_ENDPOINT !== undefined) return { credential: operatorCredential(), settings: env };
  const local = await readLiveLocalAzure(env);
  if (!local) throw new ConfigError("set GRANTGUARD_TABLE_ENDPOINT (the Table Storage where grantguard keeps its state), or start the local Azure with npm start");
  if (env.NODE_EXTRA_CA_CERTS !== local.caBundle) throw new RelaunchNeeded("this process does not trust the local Azure's certificate", { NODE_EXTRA_CA_CERTS: local.caBundle });
  context.io.err(`grantguard: using the local Azure of npm start (pid ${local.pid}, ${displayPath(local.file)}) as ${local.operator.userId}`);
  return { credential: localOperatorCredential(local), settings: { ...local.settings } };
}

/**
 * Connects the operator to grantguard's stores and ARM: from GRANTGUARD_TABLE_ENDPOINT and the
 * operator's credential, or else from a running `npm start` (said on stderr). Asks for a new
 * process (RelaunchNeeded) when this one does not trust the local Azure's certificate.
 */
export async function connectOperator(context: VerbContext, needs: OperatorNeeds): Promise<Operator> {
  const { credential, settings: raw } = await operatorConnection(context);
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid settings: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  const settings = parsed.data;
  context.azure.push({ name: "Table Storage", endpoint: settings.GRANTGUARD_TABLE_ENDPOINT, needs: needs.tables });
  if (needs.arm) context.azure.push({ name: "Azure Resource Manager", endpoint: settings.GRANTGUARD_ARM_ENDPOINT, needs: needs.arm });
  const services = createOperatorServices(
    { armEndpoint: settings.GRANTGUARD_ARM_ENDPOINT, tableEndpoint: settings.GRANTGUARD_TABLE_ENDPOINT, revocationsTable: settings.GRANTGUARD_REVOCATIONS_TABLE, alertsTable: settings.GRANTGUARD_ALERTS_TABLE, auditTable: settings.GRANTGUARD_AUDIT_TABLE },
    credential,
  );
  return { ...services, who: () => callerOf(credential) };
}

/** The claims of the credential's ARM token ({} for an opaque token: ARM still judges it). */
async function armClaims(credential: TokenCredential): Promise<Record<string, unknown>> {
  const token = await credential.getToken(`${ARM_RESOURCES[0]}/.default`);
  try {
    return JSON.parse(Buffer.from(token?.token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Who a credential signs in as: the ARM token's upn, unique_name or oid. */
export async function callerOf(credential: TokenCredential): Promise<string> {
  const claims = await armClaims(credential);
  return [claims.upn, claims.unique_name, claims.oid].find((v): v is string => typeof v === "string") ?? "unknown caller";
}

/** The tenant id of the credential's ARM token (tid), or null when it does not say. */
export async function tenantOf(credential: TokenCredential): Promise<string | null> {
  const { tid } = await armClaims(credential);
  return typeof tid === "string" ? tid : null;
}
