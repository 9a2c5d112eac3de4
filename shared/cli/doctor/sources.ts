import { createHash } from "node:crypto";
import { createRestError, getClient, type Client } from "@azure-rest/core-client";
import type { TokenCredential } from "@azure/identity";
import { CryptographyClient } from "@azure/keyvault-keys";
import { keyVaultClientOptions } from "../../azure/auditTrailSigner.js";
import { LogsQueryResultStatus } from "@azure/monitor-query-logs";
import { createAuthorizationClient } from "../../azure/arm.js";
import { createGraphClient } from "../../azure/graph.js";
import { createLogsClient } from "../../azure/logs.js";
import { GrantGuardError } from "../../errors.js";
import type { AssignmentView, DoctorSources, EventSubscriptionView, RoleView, SystemTopicView } from "./checks.js";

// The doctor's reads through the real clients: the ARM authorization SDK for role assignments and
// definitions, Microsoft Graph and ARM REST (Event Grid, Web Apps) through @azure-rest/core-client
// with the SDK pipeline, the Log Analytics query client, and Key Vault's CryptographyClient.
// Built here, in the command line's own composition root: the product never reads these.

const ARM_SCOPE = "https://management.azure.com/.default";
const EVENT_GRID_API_VERSION = "2025-02-15";
const WEB_API_VERSION = "2024-04-01";

/** Where doctor reaches Azure. */
export interface DoctorEndpoints {
  readonly arm: string;
  readonly graph: string;
  readonly logAnalytics: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** An ARM REST client with the SDK's pipeline (bearer token, retries honouring Retry-After). */
function armClient(credential: TokenCredential, endpoint: string): Client {
  return getClient(endpoint, credential, { credentials: { scopes: [ARM_SCOPE] } });
}

/** GETs an ARM list and follows its nextLinks. */
async function listAll(client: Client, path: string, apiVersion: string): Promise<Json[]> {
  const items: Json[] = [];
  let response = await client.pathUnchecked(path).get({ queryParameters: { "api-version": apiVersion } });
  for (let pages = 0; ; pages++) {
    if (response.status !== "200") throw createRestError(response);
    const body = obj(response.body);
    if (Array.isArray(body.value)) items.push(...body.value.map(obj));
    const next = str(body.nextLink);
    if (!next || pages > 100) return items;
    response = await client.pathUnchecked(next).get({ skipUrlEncoding: true });
  }
}

/** A function app's settings, as ARM's "list application settings" returns them (Key Vault references unresolved). */
export async function readAppSettings(credential: TokenCredential, armEndpoint: string, appId: string): Promise<Record<string, string>> {
  const client = armClient(credential, armEndpoint);
  const response = await client.pathUnchecked(`${appId}/config/appsettings/list`).post({ queryParameters: { "api-version": WEB_API_VERSION } });
  if (response.status !== "200") throw createRestError(response);
  const properties = obj(obj(response.body).properties);
  return Object.fromEntries(Object.entries(properties).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function eventSubscriptionView(raw: Json): EventSubscriptionView {
  const properties = obj(raw.properties);
  const destination = obj(properties.destination);
  const destinationProperties = obj(destination.properties);
  const filter = obj(properties.filter);
  const advanced = Array.isArray(filter.advancedFilters) ? filter.advancedFilters.map(obj) : [];
  const operation = advanced.find((f) => str(f.key).toLowerCase() === "data.operationname" && str(f.operatorType) === "StringIn");
  const endpointType = str(destination.endpointType);
  return {
    id: str(raw.id),
    provisioningState: str(properties.provisioningState),
    endpointType,
    functionId: endpointType === "AzureFunction" ? str(destinationProperties.resourceId) || null : null,
    maxEventsPerBatch: typeof destinationProperties.maxEventsPerBatch === "number" ? destinationProperties.maxEventsPerBatch : null,
    operationNames: operation && Array.isArray(operation.values) ? operation.values.map(str) : null,
    includedEventTypes: Array.isArray(filter.includedEventTypes) ? filter.includedEventTypes.map(str) : null,
    deadLetter: properties.deadLetterDestination != null || properties.deadLetterWithResourceIdentity != null,
  };
}

/** The doctor's sources over real Azure (or the local simulator), with one credential. */
export function createDoctorSources(credential: TokenCredential, endpoints: DoctorEndpoints): DoctorSources {
  const authorization = createAuthorizationClient(credential, endpoints.arm);
  const graph = createGraphClient(credential, endpoints.graph);
  const arm = armClient(credential, endpoints.arm);
  const logs = createLogsClient(credential, endpoints.logAnalytics);
  return {
    async assignmentsOf(scope, principalId): Promise<AssignmentView[]> {
      // atScope(): the assignments at the scope and above it, which are those that grant there
      // (assignedTo() would add those below, which cannot be told apart without the hierarchy).
      const out: AssignmentView[] = [];
      for await (const a of authorization.roleAssignments.listForScope(scope, { filter: "atScope()" })) {
        if (a.principalId?.toLowerCase() !== principalId.toLowerCase()) continue;
        out.push({ id: a.id ?? "", scope: a.scope ?? "", roleDefinitionId: a.roleDefinitionId ?? "", condition: a.condition ?? null });
      }
      return out;
    },
    async roleDefinition(id): Promise<RoleView | null> {
      try {
        const d = await authorization.roleDefinitions.getById(id);
        return {
          roleName: d.roleName ?? id,
          permissions: (d.permissions ?? []).map((p) => ({ actions: p.actions ?? [], notActions: p.notActions ?? [], dataActions: p.dataActions ?? [], notDataActions: p.notDataActions ?? [] })),
        };
      } catch (error) {
        if ((error as { statusCode?: unknown }).statusCode === 404) return null;
        throw error;
      }
    },
    async servicePrincipalIdByAppId(appId) {
      const response = await graph.pathUnchecked(`/v1.0/servicePrincipals(appId='${encodeURIComponent(appId)}')`).get({ queryParameters: { $select: "id" } });
      if (response.status === "404") return null;
      if (response.status !== "200") throw createRestError(response);
      return str(obj(response.body).id) || null;
    },
    async appRoleAssignments(servicePrincipalId) {
      const response = await graph.pathUnchecked(`/v1.0/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/appRoleAssignments`).get();
      if (response.status !== "200") throw createRestError(response);
      const value = obj(response.body).value;
      return (Array.isArray(value) ? value.map(obj) : []).map((a) => ({ appRoleId: str(a.appRoleId), resourceId: str(a.resourceId) }));
    },
    async systemTopics(subscriptionId): Promise<SystemTopicView[]> {
      const topics = await listAll(arm, `/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.EventGrid/systemTopics`, EVENT_GRID_API_VERSION);
      return topics.map((t) => ({ id: str(t.id), source: str(obj(t.properties).source), topicType: str(obj(t.properties).topicType), provisioningState: str(obj(t.properties).provisioningState) }));
    },
    async eventSubscriptions(systemTopicId) {
      return (await listAll(arm, `${systemTopicId}/eventSubscriptions`, EVENT_GRID_API_VERSION)).map(eventSubscriptionView);
    },
    async queryTable(workspaceId, table) {
      const result = await logs.queryWorkspace(workspaceId, `${table} | take 1`, { duration: "P1D" });
      if (result.status === LogsQueryResultStatus.PartialFailure) throw new GrantGuardError(`partial answer: ${result.partialError.message}`);
    },
    async sign(keyId) {
      const digest = createHash("sha256").update("grantguard doctor").digest();
      await new CryptographyClient(keyId, credential, keyVaultClientOptions(keyId)).sign("RS256", digest);
    },
  };
}
