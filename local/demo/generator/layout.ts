// The demo tenant's fixed facts: its ids, the principals the demos name, the first-party apps in
// its sign-in logs, and its hierarchy of management groups and subscriptions. No chance here.

/** The demo tenant, and the two tenants whose multi-tenant apps it has admitted. */
export const TENANT_ID = "3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13";
export const FOREIGN_TENANT_NORTHWIND = "9a4e2c71-5d3b-4f86-a1c9-7e2b5d8f0a64";
export const FOREIGN_TENANT_TAILSPIN = "b7d5e3f1-2a4c-4e69-8b1d-3f6a9c2e5b07";

/** Principals the demos and tests refer to by id. */
export const FIXED = {
  grantguard: { id: "6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40", appId: "8d1e5a7c-3b2f-4c6d-9a0e-1f4b7c2d5e68" },
  alice: "0a6d3f1b-7c2e-4b59-8e1d-4f6a2b3c9d71",
  devContractor: "c4e8a2f6-1b3d-4a5c-9e7f-0d2b4c6e8a13",
  bob: "5b9d1f3a-6c8e-4d2b-a7f1-3e5c7a9b1d24",
  formerAdmin: "e7a1c3d5-2f4b-4e6a-8c0d-9b1f3a5c7e29",
  funcOrdersProd: "f2b4d6e8-3a5c-4e7f-9b1d-2c4e6a8f0b35",
} as const;

/** Principals that must hold no role assignment at all. */
export const NO_ASSIGNMENTS = new Set<string>([FIXED.devContractor, FIXED.bob, FIXED.formerAdmin, FIXED.funcOrdersProd]);

/** Well-known first-party application ids (used in sign-in logs). */
export const APP = {
  azurePortal: { id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", name: "Azure Portal" },
  azureCli: { id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", name: "Microsoft Azure CLI" },
  azurePowerShell: { id: "1950a258-227b-4e31-a9cf-717495945fc2", name: "Microsoft Azure PowerShell" },
} as const;
/** Resources the sign-in logs name. */
export const ARM_RESOURCE = { id: "797f4846-ba00-4fd7-ba43-dac1f8f63013", name: "Windows Azure Service Management API" };
export const KV_RESOURCE = { id: "cfa8b339-82a2-471a-a3c9-0fc0be7a4093", name: "Azure Key Vault" };
export const STORAGE_RESOURCE = { id: "e406a681-f3d4-42a8-90b6-c2b029497af1", name: "Azure Storage" };

/** The id of management group `name`. */
export const mgId = (name: string) => `/providers/Microsoft.Management/managementGroups/${name}`;
/** The tenant root group is named after the tenant. */
export const ROOT_MG = TENANT_ID;

/** The management group tree: Platform and Landing Zones (Corp, Online) under the root. */
export const managementGroupDefs: Array<{ name: string; displayName: string; parent: string | null }> = [
  { name: ROOT_MG, displayName: "Tenant Root Group", parent: null },
  { name: "contoso-platform", displayName: "Contoso Platform", parent: ROOT_MG },
  { name: "contoso-landingzones", displayName: "Contoso Landing Zones", parent: ROOT_MG },
  { name: "contoso-corp", displayName: "Contoso Corp", parent: "contoso-landingzones" },
  { name: "contoso-online", displayName: "Contoso Online", parent: "contoso-landingzones" },
];

/** The management groups in the snapshot's shape. */
export const managementGroups = managementGroupDefs.map((mg) => ({
  id: mgId(mg.name),
  type: "Microsoft.Management/managementGroups",
  name: mg.name,
  properties: {
    tenantId: TENANT_ID,
    displayName: mg.displayName,
    details: { parent: mg.parent === null ? null : { id: mgId(mg.parent) } },
  },
}));

/** The four subscriptions, by short key. */
export type SubKey = "prod" | "stg" | "dev" | "shared";
/** Each subscription: id, name, management group and resource groups. */
export const SUBS: Record<SubKey, { id: string; name: string; mg: string; rgs: string[] }> = {
  prod: {
    id: "1b6e2c4a-8d3f-4a7b-9c1e-5f2d8a6b3c71",
    name: "Production",
    mg: "contoso-corp",
    rgs: ["rg-web-prod", "rg-data-prod", "rg-app-prod", "rg-network-prod", "rg-monitoring-prod"],
  },
  stg: {
    id: "2c7f3d5b-9e4a-4b8c-8d2f-6a3e9b7c4d82",
    name: "Staging",
    mg: "contoso-online",
    rgs: ["rg-web-stg", "rg-data-stg", "rg-app-stg", "rg-network-stg"],
  },
  dev: {
    id: "3d8a4e6c-0f5b-4c9d-9e3a-7b4f0c8d5e93",
    name: "Development",
    mg: "contoso-online",
    rgs: ["rg-web-dev", "rg-data-dev", "rg-app-dev", "rg-sandbox-dev", "rg-ml-dev"],
  },
  shared: {
    id: "4e9b5f7d-1a6c-4d0e-8f4b-8c5a1d9e6fa4",
    name: "Shared Services",
    mg: "contoso-platform",
    rgs: ["rg-grantguard", "rg-identity-shared", "rg-network-hub", "rg-monitoring-shared", "rg-devops-shared", "rg-keyvault-shared"],
  },
};
export const SUB_KEYS: SubKey[] = ["prod", "stg", "dev", "shared"];

/** The subscriptions in the snapshot's shape. */
export const subscriptions = SUB_KEYS.map((k) => ({
  id: `/subscriptions/${SUBS[k].id}`,
  subscriptionId: SUBS[k].id,
  tenantId: TENANT_ID,
  displayName: SUBS[k].name,
  state: "Enabled",
  managementGroupId: mgId(SUBS[k].mg),
}));

/** Every fixed id above: none may be drawn as a random GUID. */
export const LAYOUT_IDS: readonly string[] = [
  TENANT_ID,
  FOREIGN_TENANT_NORTHWIND,
  FOREIGN_TENANT_TAILSPIN,
  FIXED.grantguard.id,
  FIXED.grantguard.appId,
  FIXED.alice,
  FIXED.devContractor,
  FIXED.bob,
  FIXED.formerAdmin,
  FIXED.funcOrdersProd,
  APP.azurePortal.id,
  APP.azureCli.id,
  APP.azurePowerShell.id,
  ARM_RESOURCE.id,
  KV_RESOURCE.id,
  STORAGE_RESOURCE.id,
  ...Object.values(SUBS).map((s) => s.id),
];

/** The tenant root scope. */
export const ROOT_SCOPE = "/";
/** The scope of management group `name`. */
export const mgScope = (name: string) => mgId(name);
/** The scope of a subscription. */
export const subScope = (k: SubKey) => `/subscriptions/${SUBS[k].id}`;
/** The scope of a resource group. */
export const rgScope = (k: SubKey, rg: string) => `${subScope(k)}/resourceGroups/${rg}`;
/** The scope (id) of a resource. */
export const resScope = (k: SubKey, rg: string, type: string, name: string) => `${rgScope(k, rg)}/providers/${type}/${name}`;

/** The subscription a scope lies in, or null above subscriptions. */
export function subOfScope(scope: string): SubKey | null {
  const m = /^\/subscriptions\/([0-9a-f-]{36})/i.exec(scope);
  if (!m) return null;
  return SUB_KEYS.find((k) => SUBS[k].id === m[1]) ?? null;
}
