import type { Directory, PrincipalInfo } from "./directory.js";
import { FIXED, rgScope, resScope, SUB_KEYS, SUBS, TENANT_ID, type SubKey } from "./layout.js";
import type { SeededRandom } from "./random.js";

// The tenant's resources in ARM's shape: resource groups, user-assigned identities, and the sites,
// machines, storage accounts and vaults, with the system-assigned identities of those that have one.
// Every managed identity is also a service principal of the directory.

/** Resource types the assignments single out. */
export const SITE = "Microsoft.Web/sites";
export const VM = "Microsoft.Compute/virtualMachines";
export const ST = "Microsoft.Storage/storageAccounts";
export const KV = "Microsoft.KeyVault/vaults";

const LOCATION: Record<SubKey, string> = { prod: "westeurope", stg: "westeurope", dev: "northeurope", shared: "westeurope" };

/** A user-assigned identity: its resource and its service principal. */
export interface UaiInfo {
  key: string;
  k: SubKey;
  rg: string;
  name: string;
  resourceId: string;
  principalId: string;
  clientId: string;
}

/** The tenant's resources, and where to find a resource or an identity by name. */
export type Resources = ReturnType<typeof buildResources>;

/** Makes the tenant's resources, adding their managed identities to `directory`. */
export function buildResources(random: SeededRandom, directory: Directory) {
  const resources: object[] = [];
  const resourceIdsBySub: Record<SubKey, Array<{ rg: string; id: string; type: string; name: string }>> = {
    prod: [],
    stg: [],
    dev: [],
    shared: [],
  };

  // Resource groups themselves (ARM shape of Microsoft.Resources/resourceGroups).
  for (const k of SUB_KEYS) {
    for (const rg of SUBS[k].rgs) {
      resources.push({
        id: rgScope(k, rg),
        name: rg,
        type: "Microsoft.Resources/resourceGroups",
        location: LOCATION[k],
        properties: { provisioningState: "Succeeded" },
      });
    }
  }

  const uais = new Map<string, UaiInfo>();
  function addUai(key: string, k: SubKey, rg: string, name: string, principalId?: string, clientId?: string): UaiInfo {
    const u: UaiInfo = {
      key,
      k,
      rg,
      name,
      resourceId: resScope(k, rg, "Microsoft.ManagedIdentity/userAssignedIdentities", name),
      principalId: principalId ?? random.guid(),
      clientId: clientId ?? random.guid(),
    };
    uais.set(key, u);
    resources.push({
      id: u.resourceId,
      name,
      type: "Microsoft.ManagedIdentity/userAssignedIdentities",
      location: LOCATION[k],
      properties: { tenantId: TENANT_ID, principalId: u.principalId, clientId: u.clientId },
    });
    directory.principals.push({
      "@odata.type": "#microsoft.graph.servicePrincipal",
      id: u.principalId,
      accountEnabled: true,
      appId: u.clientId,
      displayName: name,
      appOwnerOrganizationId: null,
      servicePrincipalType: "ManagedIdentity",
      servicePrincipalNames: [u.clientId, `https://identity.azure.net/${u.clientId}`],
      alternativeNames: ["isExplicit=True", u.resourceId],
      signInAudience: "AzureADMyOrg",
      tags: [],
      passwordCredentials: [],
      keyCredentials: [],
    });
    directory.info.set(u.principalId, { id: u.principalId, kind: "userMI", displayName: name, appId: u.clientId, resourceId: u.resourceId });
    resourceIdsBySub[k].push({ rg, id: u.resourceId, type: "Microsoft.ManagedIdentity/userAssignedIdentities", name });
    return u;
  }

  addUai("grantguard", "shared", "rg-grantguard", "id-grantguard", FIXED.grantguard.id, FIXED.grantguard.appId);
  addUai("sharedApps", "shared", "rg-identity-shared", "id-shared-apps");
  addUai("deployPipeline", "shared", "rg-identity-shared", "id-deploy-pipeline");
  addUai("backupAutomation", "shared", "rg-identity-shared", "id-backup-automation");
  addUai("ordersDev", "dev", "rg-app-dev", "id-orders-dev");
  addUai("dataIngest", "prod", "rg-data-prod", "id-data-ingest-prod");
  const U = (key: string) => uais.get(key)!;

  const systemMIs = new Map<string, PrincipalInfo>();
  function addResource(opts: {
    k: SubKey;
    rg: string;
    type: string;
    name: string;
    kind?: string;
    system?: boolean | string; // true or a fixed principal id
    uais?: string[];
  }): string {
    const id = resScope(opts.k, opts.rg, opts.type, opts.name);
    const r: Record<string, unknown> = { id, name: opts.name, type: opts.type, location: LOCATION[opts.k] };
    if (opts.kind) r.kind = opts.kind;
    const hasSystem = opts.system !== undefined && opts.system !== false;
    const userIds = opts.uais ?? [];
    if (hasSystem || userIds.length > 0) {
      const identity: Record<string, unknown> = {
        type: hasSystem && userIds.length > 0 ? "SystemAssigned, UserAssigned" : hasSystem ? "SystemAssigned" : "UserAssigned",
      };
      if (hasSystem) {
        const principalId = typeof opts.system === "string" ? opts.system : random.guid();
        const appId = random.guid();
        identity.principalId = principalId;
        identity.tenantId = TENANT_ID;
        directory.principals.push({
          "@odata.type": "#microsoft.graph.servicePrincipal",
          id: principalId,
          accountEnabled: true,
          appId,
          displayName: opts.name,
          appOwnerOrganizationId: null,
          servicePrincipalType: "ManagedIdentity",
          servicePrincipalNames: [appId, `https://identity.azure.net/${appId}`],
          alternativeNames: ["isExplicit=False", id],
          signInAudience: "AzureADMyOrg",
          tags: [],
          passwordCredentials: [],
          keyCredentials: [],
        });
        const pi: PrincipalInfo = { id: principalId, kind: "systemMI", displayName: opts.name, appId, resourceId: id };
        directory.info.set(principalId, pi);
        systemMIs.set(opts.name, pi);
      }
      if (userIds.length > 0) {
        const map: Record<string, { principalId: string; clientId: string }> = {};
        for (const key of userIds) {
          const u = U(key);
          map[u.resourceId] = { principalId: u.principalId, clientId: u.clientId };
        }
        identity.userAssignedIdentities = map;
      }
      r.identity = identity;
    }
    resources.push(r);
    resourceIdsBySub[opts.k].push({ rg: opts.rg, id, type: opts.type, name: opts.name });
    return id;
  }


  // Production
  addResource({ k: "prod", rg: "rg-web-prod", type: SITE, name: "func-orders-prod", kind: "functionapp", system: FIXED.funcOrdersProd });
  addResource({ k: "prod", rg: "rg-web-prod", type: SITE, name: "app-contoso-web-prod", kind: "app", system: true });
  addResource({ k: "prod", rg: "rg-web-prod", type: SITE, name: "app-contoso-api-prod", kind: "app", system: true, uais: ["sharedApps"] });
  addResource({ k: "prod", rg: "rg-web-prod", type: ST, name: "stcontosowebprod01", kind: "StorageV2" });
  addResource({ k: "prod", rg: "rg-data-prod", type: ST, name: "stcontosodataprod01", kind: "StorageV2" });
  addResource({ k: "prod", rg: "rg-data-prod", type: ST, name: "stcontosoarchprod01", kind: "StorageV2" });
  addResource({ k: "prod", rg: "rg-data-prod", type: KV, name: "kv-contoso-data-prod" });
  addResource({ k: "prod", rg: "rg-data-prod", type: VM, name: "vm-sql-prod-01", system: true, uais: ["dataIngest"] });
  addResource({ k: "prod", rg: "rg-app-prod", type: VM, name: "vm-app-prod-01", system: true });
  addResource({ k: "prod", rg: "rg-app-prod", type: VM, name: "vm-app-prod-02", system: true });
  addResource({ k: "prod", rg: "rg-app-prod", type: KV, name: "kv-contoso-app-prod" });
  addResource({ k: "prod", rg: "rg-network-prod", type: "Microsoft.Network/virtualNetworks", name: "vnet-contoso-prod" });
  addResource({ k: "prod", rg: "rg-monitoring-prod", type: "Microsoft.OperationalInsights/workspaces", name: "log-contoso-prod" });
  // Staging
  addResource({ k: "stg", rg: "rg-web-stg", type: SITE, name: "app-contoso-web-stg", kind: "app", uais: ["sharedApps"] });
  addResource({ k: "stg", rg: "rg-web-stg", type: SITE, name: "func-orders-stg", kind: "functionapp", system: true });
  addResource({ k: "stg", rg: "rg-data-stg", type: ST, name: "stcontosodatastg01", kind: "StorageV2" });
  addResource({ k: "stg", rg: "rg-data-stg", type: KV, name: "kv-contoso-stg" });
  addResource({ k: "stg", rg: "rg-app-stg", type: VM, name: "vm-app-stg-01", system: true });
  addResource({ k: "stg", rg: "rg-network-stg", type: "Microsoft.Network/virtualNetworks", name: "vnet-contoso-stg" });
  // Development
  addResource({ k: "dev", rg: "rg-web-dev", type: SITE, name: "app-contoso-web-dev", kind: "app", uais: ["sharedApps"] });
  addResource({ k: "dev", rg: "rg-web-dev", type: SITE, name: "func-orders-dev", kind: "functionapp", system: true, uais: ["sharedApps"] });
  addResource({ k: "dev", rg: "rg-data-dev", type: ST, name: "stcontosodatadev01", kind: "StorageV2" });
  addResource({ k: "dev", rg: "rg-data-dev", type: KV, name: "kv-contoso-dev" });
  addResource({ k: "dev", rg: "rg-sandbox-dev", type: VM, name: "vm-sandbox-dev-01", system: true });
  addResource({ k: "dev", rg: "rg-ml-dev", type: ST, name: "stcontosomldev01", kind: "StorageV2" });
  // Shared Services
  addResource({ k: "shared", rg: "rg-grantguard", type: SITE, name: "func-grantguard", kind: "functionapp", uais: ["grantguard"] });
  addResource({ k: "shared", rg: "rg-grantguard", type: ST, name: "stgrantguard01", kind: "StorageV2" });
  addResource({ k: "shared", rg: "rg-grantguard", type: KV, name: "kv-grantguard" });
  addResource({ k: "shared", rg: "rg-devops-shared", type: VM, name: "vm-buildagent-01", system: true, uais: ["deployPipeline"] });
  addResource({ k: "shared", rg: "rg-devops-shared", type: VM, name: "vm-buildagent-02", uais: ["deployPipeline"] });
  addResource({ k: "shared", rg: "rg-monitoring-shared", type: "Microsoft.OperationalInsights/workspaces", name: "log-contoso-shared" });
  addResource({ k: "shared", rg: "rg-monitoring-shared", type: "Microsoft.Automation/automationAccounts", name: "aa-contoso-automation", uais: ["backupAutomation"] });
  addResource({ k: "shared", rg: "rg-keyvault-shared", type: KV, name: "kv-contoso-shared" });
  addResource({ k: "shared", rg: "rg-network-hub", type: "Microsoft.Network/virtualNetworks", name: "vnet-hub" });

  const MI = (name: string) => systemMIs.get(name)!;
  const res = (k: SubKey, name: string) => resourceIdsBySub[k].find((r) => r.name === name)!.id;

  return { resources, resourceIdsBySub, U, MI, res };
}
