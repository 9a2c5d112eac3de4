import { createRestError, getClient, type Client } from "@azure-rest/core-client";
import type { TokenCredential } from "@azure/identity";
import { graphDirectoryObjectSchema } from "../model/azure.js";
import type { Principal } from "../model/access.js";
import { GrantGuardError } from "../errors.js";
import type { Principals } from "../facts/sources.js";

const GRAPH_SCOPE = "https://graph.microsoft.com/.default";
const GET_BY_IDS_LIMIT = 1000; // Microsoft Graph: at most 1,000 ids per directoryObjects/getByIds call.

/**
 * The properties the facts read, for every kind of principal. Graph v1.0 returns only a default
 * set (a user's lacks userType, accountEnabled and createdDateTime), so they are asked for by
 * name. getByIds takes them unqualified over users, groups and service principals alike.
 */
export const PRINCIPAL_PROPERTIES = [
  "id",
  "displayName",
  // user
  "userPrincipalName",
  "userType",
  "accountEnabled",
  "createdDateTime",
  // service principal (accountEnabled above too)
  "appId",
  "servicePrincipalType",
  "appOwnerOrganizationId",
  "alternativeNames",
  "passwordCredentials",
  "keyCredentials",
  // group
  "securityEnabled",
  "mailEnabled",
] as const;

/** Builds a Graph client with the Azure SDK pipeline (bearer token, retries honouring Retry-After). */
export function createGraphClient(credential: TokenCredential, endpoint: string): Client {
  return getClient(endpoint, credential, { credentials: { scopes: [GRAPH_SCOPE] } });
}

function parsePrincipal(body: unknown, id: string): Principal {
  const parsed = graphDirectoryObjectSchema.safeParse(body);
  if (!parsed.success) {
    throw new GrantGuardError(`Microsoft Graph returned an unexpected object for ${id}: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/**
 * Principals through Microsoft Graph v1.0 `directoryObjects/getByIds` with `$select`: the one
 * read that returns users, groups and service principals with the properties grantguard names
 * (Graph's known issue "incomplete objects when using getByIds" documents `$select` as the way to
 * get more than a user's default set). An id Graph does not know is simply absent.
 */
export class GraphPrincipals implements Principals {
  constructor(private readonly client: Client) {}

  async getById(id: string): Promise<Principal | null> {
    const [found] = await this.#getByIds([id]);
    return found && found.id.toLowerCase() === id.toLowerCase() ? found : null;
  }

  async listByIds(ids: readonly string[]): Promise<Principal[]> {
    const principals: Principal[] = [];
    for (let i = 0; i < ids.length; i += GET_BY_IDS_LIMIT) principals.push(...(await this.#getByIds(ids.slice(i, i + GET_BY_IDS_LIMIT))));
    return principals;
  }

  async #getByIds(ids: readonly string[]): Promise<Principal[]> {
    const response = await this.client
      .path("/v1.0/directoryObjects/getByIds")
      .post({ body: { ids, types: ["user", "group", "servicePrincipal"] }, queryParameters: { $select: PRINCIPAL_PROPERTIES.join(",") } });
    if (response.status !== "200") throw createRestError(response);
    const value = (response.body as { value?: unknown }).value;
    if (!Array.isArray(value)) throw new GrantGuardError("Microsoft Graph getByIds returned no value array");
    return value.map((item) => parsePrincipal(item, "getByIds"));
  }
}
