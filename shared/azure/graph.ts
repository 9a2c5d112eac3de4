import { createRestError, getClient, type Client } from "@azure-rest/core-client";
import type { TokenCredential } from "@azure/identity";
import { graphDirectoryObjectSchema } from "../model/azure.js";
import type { Principal } from "../model/access.js";
import { GrantGuardError } from "../errors.js";

const GRAPH_SCOPE = "https://graph.microsoft.com/.default";
const GET_BY_IDS_LIMIT = 1000; // Microsoft Graph: at most 1,000 ids per directoryObjects/getByIds call.

/** Reads directory objects (users, groups, service principals) from Microsoft Graph. */
export interface Principals {
  /** The object with this id, or null when Graph answers 404 (deleted). */
  getById(id: string): Promise<Principal | null>;
  /** The objects Graph knows among these ids (absent ones are deleted), in chunks of 1,000. */
  listByIds(ids: readonly string[]): Promise<Principal[]>;
}

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

/** Principals through Microsoft Graph v1.0. */
export class GraphPrincipals implements Principals {
  constructor(private readonly client: Client) {}

  async getById(id: string): Promise<Principal | null> {
    const response = await this.client.path("/v1.0/directoryObjects/{id}", id).get();
    if (response.status === "404") return null;
    if (response.status !== "200") throw createRestError(response);
    return parsePrincipal(response.body, id);
  }

  async listByIds(ids: readonly string[]): Promise<Principal[]> {
    const principals: Principal[] = [];
    for (let i = 0; i < ids.length; i += GET_BY_IDS_LIMIT) {
      const chunk = ids.slice(i, i + GET_BY_IDS_LIMIT);
      const response = await this.client.path("/v1.0/directoryObjects/getByIds").post({ body: { ids: chunk, types: ["user", "group", "servicePrincipal"] } });
      if (response.status !== "200") throw createRestError(response);
      const value = (response.body as { value?: unknown }).value;
      if (!Array.isArray(value)) throw new GrantGuardError("Microsoft Graph getByIds returned no value array");
      for (const item of value) principals.push(parsePrincipal(item, "getByIds"));
    }
    return principals;
  }
}
