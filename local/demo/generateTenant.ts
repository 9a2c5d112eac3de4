/**
 * Deterministic generator for the demo tenant snapshot (local/demo/tenant.json).
 *
 * Every object follows the tenant snapshot format (/work/shared/guide/tenant-snapshot.md):
 * ARM shapes (api-version 2022-04-01) for authorization objects, Microsoft Graph v1.0 shapes
 * for principals, Log Analytics column names for log rows.
 *
 * Deterministic: a seeded mulberry32 PRNG drives every choice; all dates are computed from a
 * fixed reference time (2026-11-20T00:00:00Z). No Math.random, no Date.now.
 *
 * Run: npx tsx local/demo/generateTenant.ts
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// ---------------------------------------------------------------------------------------------
// Deterministic helpers
// ---------------------------------------------------------------------------------------------

const REF_MS = Date.UTC(2026, 10, 20, 0, 0, 0); // 2026-11-20T00:00:00Z
const DAY_MS = 86_400_000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(0x67a4d2c1);

function int(min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}
function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}
function chance(p: number): boolean {
  return rand() < p;
}
function weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [v, w] of entries) {
    r -= w;
    if (r < 0) return v;
  }
  return entries[entries.length - 1]![0];
}

const usedGuids = new Set<string>();
function guid(): string {
  for (;;) {
    let hex = "";
    for (let i = 0; i < 32; i++) hex += Math.floor(rand() * 16).toString(16);
    const variant = "89ab"[Math.floor(rand() * 4)];
    const g = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    if (!usedGuids.has(g)) {
      usedGuids.add(g);
      return g;
    }
  }
}
function reserve(...ids: string[]): void {
  for (const id of ids) usedGuids.add(id);
}

/** ISO timestamp `days` (fractional allowed) before the reference time. */
function ago(days: number): string {
  return new Date(REF_MS - Math.round(days * DAY_MS)).toISOString();
}
/** ISO timestamp `days` after the reference time. */
function ahead(days: number): string {
  return new Date(REF_MS + Math.round(days * DAY_MS)).toISOString();
}
/** Random instant between `minDays` and `maxDays` ago, with a random time of day. */
function agoBetween(minDays: number, maxDays: number): string {
  return ago(minDays + rand() * (maxDays - minDays));
}
function msAgo(iso: string): number {
  return (REF_MS - Date.parse(iso)) / DAY_MS;
}

// ---------------------------------------------------------------------------------------------
// Fixed facts
// ---------------------------------------------------------------------------------------------

const TENANT_ID = "3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13";
const FOREIGN_TENANT_NORTHWIND = "9a4e2c71-5d3b-4f86-a1c9-7e2b5d8f0a64";
const FOREIGN_TENANT_TAILSPIN = "b7d5e3f1-2a4c-4e69-8b1d-3f6a9c2e5b07";

const FIXED = {
  grantguard: { id: "6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40", appId: "8d1e5a7c-3b2f-4c6d-9a0e-1f4b7c2d5e68" },
  alice: "0a6d3f1b-7c2e-4b59-8e1d-4f6a2b3c9d71",
  devContractor: "c4e8a2f6-1b3d-4a5c-9e7f-0d2b4c6e8a13",
  bob: "5b9d1f3a-6c8e-4d2b-a7f1-3e5c7a9b1d24",
  formerAdmin: "e7a1c3d5-2f4b-4e6a-8c0d-9b1f3a5c7e29",
  funcOrdersProd: "f2b4d6e8-3a5c-4e7f-9b1d-2c4e6a8f0b35",
} as const;
reserve(
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
);
/** Principals that must hold no role assignment at all. */
const NO_ASSIGNMENTS = new Set<string>([FIXED.devContractor, FIXED.bob, FIXED.formerAdmin, FIXED.funcOrdersProd]);

// Well-known first-party application ids (used in sign-in logs).
const APP = {
  azurePortal: { id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", name: "Azure Portal" },
  azureCli: { id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", name: "Microsoft Azure CLI" },
  azurePowerShell: { id: "1950a258-227b-4e31-a9cf-717495945fc2", name: "Microsoft Azure PowerShell" },
} as const;
const ARM_RESOURCE = { id: "797f4846-ba00-4fd7-ba43-dac1f8f63013", name: "Windows Azure Service Management API" };
const KV_RESOURCE = { id: "cfa8b339-82a2-471a-a3c9-0fc0be7a4093", name: "Azure Key Vault" };
const STORAGE_RESOURCE = { id: "e406a681-f3d4-42a8-90b6-c2b029497af1", name: "Azure Storage" };
reserve(APP.azurePortal.id, APP.azureCli.id, APP.azurePowerShell.id, ARM_RESOURCE.id, KV_RESOURCE.id, STORAGE_RESOURCE.id);

// ---------------------------------------------------------------------------------------------
// Management groups and subscriptions
// ---------------------------------------------------------------------------------------------

const mgId = (name: string) => `/providers/Microsoft.Management/managementGroups/${name}`;
const ROOT_MG = TENANT_ID;

const managementGroupDefs: Array<{ name: string; displayName: string; parent: string | null }> = [
  { name: ROOT_MG, displayName: "Tenant Root Group", parent: null },
  { name: "contoso-platform", displayName: "Contoso Platform", parent: ROOT_MG },
  { name: "contoso-landingzones", displayName: "Contoso Landing Zones", parent: ROOT_MG },
  { name: "contoso-corp", displayName: "Contoso Corp", parent: "contoso-landingzones" },
  { name: "contoso-online", displayName: "Contoso Online", parent: "contoso-landingzones" },
];

const managementGroups = managementGroupDefs.map((mg) => ({
  id: mgId(mg.name),
  type: "Microsoft.Management/managementGroups",
  name: mg.name,
  properties: {
    tenantId: TENANT_ID,
    displayName: mg.displayName,
    details: { parent: mg.parent === null ? null : { id: mgId(mg.parent) } },
  },
}));

type SubKey = "prod" | "stg" | "dev" | "shared";
const SUBS: Record<SubKey, { id: string; name: string; mg: string; rgs: string[] }> = {
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
reserve(...Object.values(SUBS).map((s) => s.id));
const SUB_KEYS: SubKey[] = ["prod", "stg", "dev", "shared"];

const subscriptions = SUB_KEYS.map((k) => ({
  id: `/subscriptions/${SUBS[k].id}`,
  subscriptionId: SUBS[k].id,
  tenantId: TENANT_ID,
  displayName: SUBS[k].name,
  state: "Enabled",
  managementGroupId: mgId(SUBS[k].mg),
}));

const subScope = (k: SubKey) => `/subscriptions/${SUBS[k].id}`;
const rgScope = (k: SubKey, rg: string) => `${subScope(k)}/resourceGroups/${rg}`;
const resScope = (k: SubKey, rg: string, type: string, name: string) => `${rgScope(k, rg)}/providers/${type}/${name}`;

// ---------------------------------------------------------------------------------------------
// Role definitions
// ---------------------------------------------------------------------------------------------

type Permission = { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] };
const perm = (actions: string[], notActions: string[] = [], dataActions: string[] = [], notDataActions: string[] = []): Permission => ({
  actions,
  notActions,
  dataActions,
  notDataActions,
});

const ROLE = {
  owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  uaa: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
  rbacAdmin: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
  blobContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  blobReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  blobOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  kvAdmin: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
  kvSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  kvSecretsOfficer: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
  kvReader: "21090545-7ca7-4776-b22c-e363652d74d2",
  websiteContributor: "de139f84-1756-47ae-9be6-808fbbe84772",
  monitoringReader: "43d0d8ad-25c7-4714-9337-8ba259a9fe05",
  // custom roles (GUIDs generated below, fixed here for readability)
  accessDelegator: "7d2f9a4c-3e1b-4c8d-b5a6-0e9f2d4c7b18",
  platformOperator: "a3c8e1f5-6b2d-4a9e-8c7f-1d5b3e9a2c46",
  supportReader: "5e1a7c3d-9b4f-4d2e-a6c8-3f7b1e5d9a20",
  dataSteward: "c9f3b7e2-4d1a-4e8b-9f6c-2a5d8e1b7c93",
  supportReaderLegacy: "1f8d4b2e-7a3c-4f5d-8e9b-6c2a4d7f1e35",
} as const;
reserve(...Object.values(ROLE));

const KV_ACTIONS = [
  "Microsoft.Authorization/*/read",
  "Microsoft.Insights/alertRules/*",
  "Microsoft.Resources/deployments/*",
  "Microsoft.Resources/subscriptions/resourceGroups/read",
  "Microsoft.Support/*",
  "Microsoft.KeyVault/checkNameAvailability/read",
  "Microsoft.KeyVault/deletedVaults/read",
  "Microsoft.KeyVault/locations/*/read",
  "Microsoft.KeyVault/vaults/*/read",
  "Microsoft.KeyVault/operations/read",
];

// Built-in role permissions as Azure publishes them. Descriptions are our own short wording.
const builtIns: Array<{ guid: string; roleName: string; description: string; permissions: Permission }> = [
  { guid: ROLE.owner, roleName: "Owner", description: "Full access to all resources, including assigning roles in Azure RBAC.", permissions: perm(["*"]) },
  {
    guid: ROLE.contributor,
    roleName: "Contributor",
    description: "Full access to manage all resources, without the right to assign roles in Azure RBAC.",
    permissions: perm(
      ["*"],
      [
        "Microsoft.Authorization/*/Delete",
        "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action",
        "Microsoft.Blueprint/blueprintAssignments/write",
        "Microsoft.Blueprint/blueprintAssignments/delete",
        "Microsoft.Compute/galleries/share/action",
        "Microsoft.Purview/consents/write",
        "Microsoft.Purview/consents/delete",
        "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
        "Microsoft.Subscription/cancel/action",
        "Microsoft.Subscription/enable/action",
      ],
    ),
  },
  { guid: ROLE.reader, roleName: "Reader", description: "View all resources without making changes.", permissions: perm(["*/read"]) },
  {
    guid: ROLE.uaa,
    roleName: "User Access Administrator",
    description: "Manage user access to Azure resources.",
    permissions: perm(["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"]),
  },
  {
    guid: ROLE.rbacAdmin,
    roleName: "Role Based Access Control Administrator",
    description: "Manage access to Azure resources by assigning roles with Azure RBAC (not through other means such as Azure Policy).",
    permissions: perm([
      "Microsoft.Authorization/roleAssignments/write",
      "Microsoft.Authorization/roleAssignments/delete",
      "*/read",
      "Microsoft.Support/*",
    ]),
  },
  {
    guid: ROLE.blobContributor,
    roleName: "Storage Blob Data Contributor",
    description: "Read, write and delete Azure Storage blob containers and blobs.",
    permissions: perm(
      [
        "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
        "Microsoft.Storage/storageAccounts/blobServices/containers/write",
        "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
      ],
      [],
      [
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
      ],
    ),
  },
  {
    guid: ROLE.blobReader,
    roleName: "Storage Blob Data Reader",
    description: "Read and list Azure Storage blob containers and blobs.",
    permissions: perm(
      [
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
        "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
      ],
      [],
      ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
    ),
  },
  {
    guid: ROLE.blobOwner,
    roleName: "Storage Blob Data Owner",
    description: "Full access to Azure Storage blob containers and blobs, including POSIX access control.",
    permissions: perm(
      [
        "Microsoft.Storage/storageAccounts/blobServices/containers/*",
        "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
      ],
      [],
      ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"],
    ),
  },
  {
    guid: ROLE.kvAdmin,
    roleName: "Key Vault Administrator",
    description: "All data-plane operations on a key vault and its keys, secrets and certificates (RBAC permission model).",
    permissions: perm(KV_ACTIONS, [], ["Microsoft.KeyVault/vaults/*"]),
  },
  {
    guid: ROLE.kvSecretsUser,
    roleName: "Key Vault Secrets User",
    description: "Read secret values from a key vault (RBAC permission model).",
    permissions: perm(
      [],
      [],
      ["Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
    ),
  },
  {
    guid: ROLE.kvSecretsOfficer,
    roleName: "Key Vault Secrets Officer",
    description: "Any action on the secrets of a key vault except managing permissions (RBAC permission model).",
    permissions: perm(KV_ACTIONS, [], ["Microsoft.KeyVault/vaults/secrets/*"]),
  },
  {
    guid: ROLE.kvReader,
    roleName: "Key Vault Reader",
    description: "Read key vault metadata and the metadata of its keys, secrets and certificates, but no secret values.",
    permissions: perm(KV_ACTIONS, [], ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]),
  },
  {
    guid: ROLE.websiteContributor,
    roleName: "Website Contributor",
    description: "Manage websites but not the App Service plans behind them; cannot assign roles.",
    permissions: perm([
      "Microsoft.Authorization/*/read",
      "Microsoft.Insights/alertRules/*",
      "Microsoft.Insights/components/*",
      "Microsoft.ResourceHealth/availabilityStatuses/read",
      "Microsoft.Resources/deployments/*",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
      "Microsoft.Support/*",
      "Microsoft.Web/certificates/*",
      "Microsoft.Web/listSitesAssignedToHostName/read",
      "Microsoft.Web/serverFarms/join/action",
      "Microsoft.Web/serverFarms/read",
      "Microsoft.Web/sites/*",
    ]),
  },
  {
    guid: ROLE.monitoringReader,
    roleName: "Monitoring Reader",
    description: "Read all monitoring data.",
    permissions: perm(["*/read", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"]),
  },
];

const roleDefinitions: object[] = builtIns.map((r) => ({
  id: `/providers/Microsoft.Authorization/roleDefinitions/${r.guid}`,
  name: r.guid,
  type: "Microsoft.Authorization/roleDefinitions",
  properties: {
    roleName: r.roleName,
    type: "BuiltInRole",
    description: r.description,
    assignableScopes: ["/"],
    permissions: [r.permissions],
  },
}));

/** Which subscription a custom role is defined in (its assignable scope). */
const CUSTOM_ROLE_SUB: Record<string, SubKey> = {
  [ROLE.accessDelegator]: "shared",
  [ROLE.platformOperator]: "prod",
  [ROLE.supportReader]: "prod",
  [ROLE.dataSteward]: "prod",
  [ROLE.supportReaderLegacy]: "stg",
};
const BUILT_IN_GUIDS = new Set(builtIns.map((b) => b.guid));

// ---------------------------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------------------------

type Kind = "member" | "guest" | "disabled" | "group" | "app" | "systemMI" | "userMI";
interface PrincipalInfo {
  id: string;
  kind: Kind;
  displayName: string;
  upn?: string;
  appId?: string;
  createdDateTime?: string;
  keyIds?: string[];
  homeIp?: string;
  resourceId?: string;
}
const principals: object[] = [];
const info = new Map<string, PrincipalInfo>();

const FIRST = [
  "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Mason", "Isabella", "Lucas", "Mia", "Logan",
  "Amelia", "Elijah", "Harper", "James", "Evelyn", "Benjamin", "Abigail", "Henry", "Emily", "Daniel", "Ella",
  "Samuel", "Chloe", "David", "Grace", "Joseph", "Zoe", "Owen", "Nora", "Leo", "Hannah", "Ryan", "Lily",
  "Nathan", "Aria", "Isaac", "Layla", "Aaron", "Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Sven",
  "Ingrid", "Mateo", "Lucia", "Kwame", "Amara", "Tomasz", "Zofia", "Dmitri", "Elena", "Raj", "Anika", "Kenji", "Yuna",
];
const LAST = [
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
  "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Lee", "Perez",
  "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
  "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
  "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Okafor", "Novak",
  "Lindqvist", "Tanaka", "Kowalski", "Ivanova", "Haddad", "Mensah", "Schmidt", "Rossi",
];

const usedUpns = new Set<string>();
function docIp(): string {
  const prefix = pick(["192.0.2", "198.51.100", "203.0.113"]);
  return `${prefix}.${int(1, 249)}`;
}

function addUser(opts: {
  id?: string;
  given: string;
  surname: string;
  displayName?: string;
  upn?: string;
  guestDomain?: string;
  enabled?: boolean;
  createdDaysAgo?: number;
  jobTitle?: string;
}): PrincipalInfo {
  const id = opts.id ?? guid();
  const guest = opts.guestDomain !== undefined;
  const local = `${opts.given}.${opts.surname}`.toLowerCase().replace(/[^a-z.]/g, "");
  let upn = opts.upn;
  if (!upn) {
    upn = guest ? `${local}_${opts.guestDomain}#EXT#@contoso.onmicrosoft.com` : `${local}@contoso.com`;
    let n = 2;
    while (usedUpns.has(upn)) {
      upn = guest ? `${local}${n}_${opts.guestDomain}#EXT#@contoso.onmicrosoft.com` : `${local}${n}@contoso.com`;
      n++;
    }
  }
  usedUpns.add(upn);
  const enabled = opts.enabled ?? true;
  const created = ago(opts.createdDaysAgo ?? int(120, 2200) + rand());
  const mail = guest ? upn.split("#EXT#")[0]!.replace(/_([^_]+)$/, "@$1") : upn;
  const displayName = opts.displayName ?? `${opts.given} ${opts.surname}`;
  principals.push({
    "@odata.type": "#microsoft.graph.user",
    id,
    displayName,
    givenName: opts.given,
    surname: opts.surname,
    userPrincipalName: upn,
    mail,
    jobTitle: opts.jobTitle ?? null,
    userType: guest ? "Guest" : "Member",
    accountEnabled: enabled,
    createdDateTime: created,
  });
  const kind: Kind = guest ? "guest" : enabled ? "member" : "disabled";
  const pi: PrincipalInfo = { id, kind, displayName, upn, createdDateTime: created, homeIp: docIp() };
  info.set(id, pi);
  return pi;
}

// --- fixed and named users ---
const alice = addUser({ id: FIXED.alice, given: "Alice", surname: "Martin", upn: "alice@contoso.com", createdDaysAgo: 2011, jobTitle: "Cloud Platform Lead" });
const bob = addUser({ id: FIXED.bob, given: "Bob", surname: "Chen", upn: "bob@contoso.com", createdDaysAgo: 1630, jobTitle: "Software Engineer" });
const priya = addUser({ given: "Priya", surname: "Raman", createdDaysAgo: 1800, jobTitle: "Cloud Engineer" });
const marcus = addUser({ given: "Marcus", surname: "Webb", createdDaysAgo: 1500, jobTitle: "Cloud Engineer" });
const sofia = addUser({ given: "Sofia", surname: "Lindqvist", createdDaysAgo: 1320, jobTitle: "Security Engineer" });
const daniel = addUser({ given: "Daniel", surname: "Okafor", createdDaysAgo: 980, jobTitle: "Site Reliability Engineer" });
const globalAdmin = addUser({ given: "Grace", surname: "Holloway", createdDaysAgo: 2100, jobTitle: "IT Director" });
const ADMINS = [alice, priya, marcus, sofia, daniel];

const members: PrincipalInfo[] = [alice, bob, priya, marcus, sofia, daniel, globalAdmin];
while (members.length < 120) {
  // a handful of recent joiners (younger than 90 days)
  const recent = members.length % 17 === 0;
  members.push(addUser({ given: pick(FIRST), surname: pick(LAST), createdDaysAgo: recent ? int(5, 80) + rand() : undefined }));
}

// --- guests ---
const devContractor = addUser({
  id: FIXED.devContractor,
  given: "Dev",
  surname: "Contractor",
  displayName: "Dev Contractor (Fabrikam)",
  upn: "dev.contractor_fabrikam.com#EXT#@contoso.onmicrosoft.com",
  guestDomain: "fabrikam.com",
  createdDaysAgo: 210,
});
const guests: PrincipalInfo[] = [devContractor];
const GUEST_DOMAINS = ["fabrikam.com", "adatum.com", "woodgrovebank.com", "litwareinc.com", "northwindtraders.com"];
while (guests.length < 15) {
  const domain = pick(GUEST_DOMAINS);
  const given = pick(FIRST);
  const surname = pick(LAST);
  const org = domain.split(".")[0]!.replace(/^./, (c) => c.toUpperCase());
  guests.push(addUser({ given, surname, displayName: `${given} ${surname} (${org})`, guestDomain: domain, createdDaysAgo: int(30, 1100) + rand() }));
}

// --- disabled members ---
const formerAdmin = addUser({
  id: FIXED.formerAdmin,
  given: "Former",
  surname: "Admin",
  displayName: "Former Admin",
  upn: "former.admin@contoso.com",
  enabled: false,
  createdDaysAgo: 1900,
  jobTitle: "Cloud Administrator",
});
const disabled: PrincipalInfo[] = [formerAdmin];
while (disabled.length < 8) disabled.push(addUser({ given: pick(FIRST), surname: pick(LAST), enabled: false, createdDaysAgo: int(400, 2000) + rand() }));

// --- groups ---
const GROUP_DEFS: Array<[string, string]> = [
  ["sg-azure-platform-admins", "Platform engineering administrators"],
  ["sg-azure-readers", "Read-only access to Azure for auditors and architects"],
  ["sg-web-developers", "Web and API developers"],
  ["sg-data-engineers", "Data engineering team"],
  ["sg-secops", "Security operations"],
  ["sg-finops", "Cloud cost management"],
  ["sg-app-support", "Application support (L2)"],
  ["sg-network-team", "Network engineering"],
  ["sg-ml-researchers", "Machine learning research"],
  ["sg-qa-engineers", "Quality assurance"],
  ["sg-external-contractors", "External contractors with Azure access"],
  ["sg-sre-oncall", "Site reliability on-call rotation"],
];
const groups = new Map<string, PrincipalInfo>();
for (const [name, description] of GROUP_DEFS) {
  const id = guid();
  const created = agoBetween(200, 1900);
  principals.push({
    "@odata.type": "#microsoft.graph.group",
    id,
    displayName: name,
    description,
    mailNickname: name,
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: [],
    createdDateTime: created,
  });
  const pi: PrincipalInfo = { id, kind: "group", displayName: name, createdDateTime: created };
  info.set(id, pi);
  groups.set(name, pi);
}
const G = (name: string) => groups.get(name)!;

// --- application service principals ---
function addAppSp(opts: { name: string; owner?: string; secrets?: Array<{ endInDays: number; startDaysAgo: number }>; cert?: boolean }): PrincipalInfo {
  const id = guid();
  const appId = guid();
  const keyIds: string[] = [];
  const passwordCredentials = (opts.secrets ?? []).map((s, i) => {
    const keyId = guid();
    keyIds.push(keyId);
    return {
      customKeyIdentifier: null,
      displayName: i === 0 ? "deploy-secret" : `rotated-secret-${i}`,
      endDateTime: s.endInDays >= 0 ? ahead(s.endInDays) : ago(-s.endInDays),
      hint: pick(["Xq~", "8Kd", "p3R", "Zt7", "mN0"]),
      keyId,
      secretText: null,
      startDateTime: ago(s.startDaysAgo),
    };
  });
  const keyCredentials = opts.cert
    ? [
        {
          customKeyIdentifier: null,
          displayName: `CN=${opts.name}`,
          endDateTime: ahead(int(60, 400)),
          key: null,
          keyId: guid(),
          startDateTime: agoBetween(100, 500),
          type: "AsymmetricX509Cert",
          usage: "Verify",
        },
      ]
    : [];
  principals.push({
    "@odata.type": "#microsoft.graph.servicePrincipal",
    id,
    accountEnabled: true,
    appId,
    appDisplayName: opts.name,
    displayName: opts.name,
    appOwnerOrganizationId: opts.owner ?? TENANT_ID,
    servicePrincipalType: "Application",
    servicePrincipalNames: [appId],
    signInAudience: opts.owner ? "AzureADMultipleOrgs" : "AzureADMyOrg",
    alternativeNames: [],
    tags: [],
    passwordCredentials,
    keyCredentials,
  });
  const pi: PrincipalInfo = { id, kind: "app", displayName: opts.name, appId, keyIds, homeIp: docIp() };
  info.set(id, pi);
  return pi;
}
const sp = {
  terraformPlatform: addAppSp({ name: "sp-terraform-platform", secrets: [{ startDaysAgo: 300, endInDays: 65 }] }),
  ghActionsWeb: addAppSp({ name: "sp-github-actions-web", secrets: [{ startDaysAgo: 500, endInDays: 230 }] }),
  ghActionsData: addAppSp({ name: "sp-github-actions-data", secrets: [{ startDaysAgo: 200, endInDays: 530 }] }),
  adoRelease: addAppSp({ name: "sp-azure-devops-release", cert: true }),
  costExport: addAppSp({ name: "sp-cost-export", secrets: [{ startDaysAgo: 700, endInDays: -5 }, { startDaysAgo: 20, endInDays: 345 }] }),
  sentinelConnector: addAppSp({ name: "sp-sentinel-connector", cert: true }),
  legacyEtl: addAppSp({ name: "sp-legacy-etl", secrets: [{ startDaysAgo: 900, endInDays: -170 }] }),
  powerbiGateway: addAppSp({ name: "sp-powerbi-gateway", secrets: [{ startDaysAgo: 400, endInDays: 330 }] }),
  dnsAutomation: addAppSp({ name: "sp-dns-automation", secrets: [{ startDaysAgo: 150, endInDays: 580 }] }),
  certRenewal: addAppSp({ name: "sp-cert-renewal", cert: true }),
  qaRunner: addAppSp({ name: "sp-qa-test-runner", secrets: [{ startDaysAgo: 90, endInDays: 640 }] }),
  aksDevLegacy: addAppSp({ name: "sp-aks-dev-legacy", secrets: [{ startDaysAgo: 1000, endInDays: -270 }] }),
  backupScripts: addAppSp({ name: "sp-backup-scripts", secrets: [{ startDaysAgo: 60, endInDays: 305 }] }),
  northwind: addAppSp({ name: "Northwind Cloud Monitoring", owner: FOREIGN_TENANT_NORTHWIND, secrets: [] }),
  tailspin: addAppSp({ name: "Tailspin Backup Connector", owner: FOREIGN_TENANT_TAILSPIN, secrets: [] }),
};

// ---------------------------------------------------------------------------------------------
// Resources (ARM) and managed identities
// ---------------------------------------------------------------------------------------------

const LOCATION: Record<SubKey, string> = { prod: "westeurope", stg: "westeurope", dev: "northeurope", shared: "westeurope" };
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

interface UaiInfo {
  key: string;
  k: SubKey;
  rg: string;
  name: string;
  resourceId: string;
  principalId: string;
  clientId: string;
}
const uais = new Map<string, UaiInfo>();
function addUai(key: string, k: SubKey, rg: string, name: string, principalId?: string, clientId?: string): UaiInfo {
  const u: UaiInfo = {
    key,
    k,
    rg,
    name,
    resourceId: resScope(k, rg, "Microsoft.ManagedIdentity/userAssignedIdentities", name),
    principalId: principalId ?? guid(),
    clientId: clientId ?? guid(),
  };
  uais.set(key, u);
  resources.push({
    id: u.resourceId,
    name,
    type: "Microsoft.ManagedIdentity/userAssignedIdentities",
    location: LOCATION[k],
    properties: { tenantId: TENANT_ID, principalId: u.principalId, clientId: u.clientId },
  });
  principals.push({
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
  info.set(u.principalId, { id: u.principalId, kind: "userMI", displayName: name, appId: u.clientId, resourceId: u.resourceId });
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
      const principalId = typeof opts.system === "string" ? opts.system : guid();
      const appId = guid();
      identity.principalId = principalId;
      identity.tenantId = TENANT_ID;
      principals.push({
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
      info.set(principalId, pi);
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

const SITE = "Microsoft.Web/sites";
const VM = "Microsoft.Compute/virtualMachines";
const ST = "Microsoft.Storage/storageAccounts";
const KV = "Microsoft.KeyVault/vaults";

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

// ---------------------------------------------------------------------------------------------
// Role assignments
// ---------------------------------------------------------------------------------------------

interface AssignmentMeta {
  name: string;
  scope: string;
  roleGuid: string;
  principalId: string;
  principalType: string;
  createdOn: string;
  createdBy: string;
  sub: SubKey | null;
}
const roleAssignments: object[] = [];
const assignmentMeta: AssignmentMeta[] = [];
const assignmentKeys = new Set<string>();

function principalTypeOf(id: string): string {
  const p = info.get(id);
  if (!p) throw new Error(`unknown principal ${id}`);
  if (p.kind === "group") return "Group";
  if (p.kind === "app" || p.kind === "systemMI" || p.kind === "userMI") return "ServicePrincipal";
  return "User";
}
function subOfScope(scope: string): SubKey | null {
  const m = /^\/subscriptions\/([0-9a-f-]{36})/i.exec(scope);
  if (!m) return null;
  return SUB_KEYS.find((k) => SUBS[k].id === m[1]) ?? null;
}
function roleDefinitionIdFor(roleGuid: string, scope: string): string {
  const sub = subOfScope(scope);
  if (!BUILT_IN_GUIDS.has(roleGuid)) {
    const home = CUSTOM_ROLE_SUB[roleGuid];
    if (!home || sub !== home) throw new Error(`custom role ${roleGuid} not assignable at ${scope}`);
  }
  return sub ? `/subscriptions/${SUBS[sub].id}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}` : `/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
}

/** Creation date: mostly spread over 3 years, ~16% in the last 120 days. Never before the principal existed. */
function pickCreatedOn(principalId: string, opts?: { minDaysAgo?: number; maxDaysAgo?: number }): string {
  const p = info.get(principalId);
  let max = opts?.maxDaysAgo ?? (chance(0.16) ? 120 : 1095);
  const min = opts?.minDaysAgo ?? 1;
  if (p?.createdDateTime) max = Math.min(max, msAgo(p.createdDateTime) - 0.5);
  if (max <= min) max = min + 0.5;
  return agoBetween(min, max);
}

function assign(opts: {
  scope: string;
  role: string;
  principal: string;
  principalType?: string;
  createdOn?: string;
  createdBy?: string;
  condition?: string;
  description?: string;
  minDaysAgo?: number;
  maxDaysAgo?: number;
}): AssignmentMeta | null {
  if (NO_ASSIGNMENTS.has(opts.principal)) return null;
  const key = `${opts.scope.toLowerCase()}|${opts.role}|${opts.principal}`;
  if (assignmentKeys.has(key)) return null;
  assignmentKeys.add(key);
  const name = guid();
  const principalType = opts.principalType ?? principalTypeOf(opts.principal);
  const createdOn = opts.createdOn ?? pickCreatedOn(opts.principal, { minDaysAgo: opts.minDaysAgo, maxDaysAgo: opts.maxDaysAgo });
  const updated = chance(0.1) ? ago(msAgo(createdOn) * rand()) : createdOn;
  const createdBy = opts.createdBy ?? pickCreator(createdOn);
  const scopePrefix = opts.scope === "/" ? "" : opts.scope;
  roleAssignments.push({
    id: `${scopePrefix}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    type: "Microsoft.Authorization/roleAssignments",
    properties: {
      roleDefinitionId: roleDefinitionIdFor(opts.role, opts.scope),
      principalId: opts.principal,
      principalType,
      scope: opts.scope,
      condition: opts.condition ?? null,
      conditionVersion: opts.condition ? "2.0" : null,
      description: opts.description ?? null,
      createdOn,
      updatedOn: updated,
      createdBy,
      updatedBy: updated === createdOn ? createdBy : pick(ADMINS).id,
      delegatedManagedIdentityResourceId: null,
    },
  });
  const meta: AssignmentMeta = { name, scope: opts.scope, roleGuid: opts.role, principalId: opts.principal, principalType, createdOn, createdBy, sub: subOfScope(opts.scope) };
  assignmentMeta.push(meta);
  return meta;
}

/** Who made a grant: older grants were often made by the now-disabled former admin. */
function pickCreator(createdOn: string): string {
  const days = msAgo(createdOn);
  if (days > 400 && chance(0.3)) return formerAdmin.id;
  if (chance(0.08)) return sp.terraformPlatform.id;
  return pick(ADMINS).id;
}

const ROOT_SCOPE = "/";
const mgScope = (name: string) => mgId(name);

// --- tenant root "/" ---
assign({ scope: ROOT_SCOPE, role: ROLE.uaa, principal: globalAdmin.id, createdBy: globalAdmin.id, maxDaysAgo: 700, minDaysAgo: 400 }); // elevate-access leftover
assign({ scope: ROOT_SCOPE, role: ROLE.reader, principal: G("sg-secops").id, createdBy: globalAdmin.id });

// --- management groups ---
assign({
  scope: mgScope(ROOT_MG),
  role: ROLE.reader,
  principal: FIXED.grantguard.id,
  createdBy: alice.id,
  description: "grantguard governance sweep",
  createdOn: ago(41.3),
});
assign({ scope: mgScope(ROOT_MG), role: ROLE.reader, principal: G("sg-azure-readers").id });
assign({ scope: mgScope(ROOT_MG), role: ROLE.monitoringReader, principal: sp.sentinelConnector.id });
assign({ scope: mgScope("contoso-platform"), role: ROLE.owner, principal: G("sg-azure-platform-admins").id });
assign({ scope: mgScope("contoso-platform"), role: ROLE.contributor, principal: sp.terraformPlatform.id });
assign({ scope: mgScope("contoso-landingzones"), role: ROLE.reader, principal: sp.northwind.id, description: "Vendor monitoring" });
assign({ scope: mgScope("contoso-landingzones"), role: ROLE.rbacAdmin, principal: priya.id });
assign({ scope: mgScope("contoso-landingzones"), role: ROLE.contributor, principal: U("deployPipeline").principalId });
assign({ scope: mgScope("contoso-corp"), role: ROLE.reader, principal: G("sg-finops").id });
assign({ scope: mgScope("contoso-online"), role: ROLE.reader, principal: G("sg-qa-engineers").id });
assign({ scope: mgScope("contoso-online"), role: ROLE.contributor, principal: marcus.id });
const guestPriv = guests.filter((g) => g.id !== FIXED.devContractor);
assign({ scope: mgScope("contoso-corp"), role: ROLE.owner, principal: guestPriv[0]!.id }); // privileged guest high up

// --- subscription scope: owners ---
const disabledPriv = disabled.filter((d) => d.id !== FIXED.formerAdmin);
const pimOwners: AssignmentMeta[] = [];
// Production: 5 owners
assign({ scope: subScope("prod"), role: ROLE.owner, principal: alice.id, createdBy: globalAdmin.id, createdOn: ago(1012.4) });
assign({ scope: subScope("prod"), role: ROLE.owner, principal: priya.id });
assign({ scope: subScope("prod"), role: ROLE.owner, principal: G("sg-azure-platform-admins").id });
pimOwners.push(assign({ scope: subScope("prod"), role: ROLE.owner, principal: marcus.id, createdOn: ago(0.15), createdBy: marcus.id })!); // activated via PIM
pimOwners.push(assign({ scope: subScope("prod"), role: ROLE.owner, principal: daniel.id, createdOn: ago(62.5) })!); // PIM time-bound assignment
// Staging: 2 owners (one disabled user)
assign({ scope: subScope("stg"), role: ROLE.owner, principal: marcus.id });
assign({ scope: subScope("stg"), role: ROLE.owner, principal: disabledPriv[0]!.id });
// Development: 3 owners (one guest)
assign({ scope: subScope("dev"), role: ROLE.owner, principal: daniel.id });
assign({ scope: subScope("dev"), role: ROLE.owner, principal: guestPriv[1]!.id });
assign({ scope: subScope("dev"), role: ROLE.owner, principal: members[20]!.id });
// Shared Services: 3 owners (one SP, one PIM-managed)
assign({ scope: subScope("shared"), role: ROLE.owner, principal: sp.terraformPlatform.id });
pimOwners.push(assign({ scope: subScope("shared"), role: ROLE.owner, principal: sofia.id, createdOn: ago(150.2) })!);
assign({ scope: subScope("shared"), role: ROLE.owner, principal: alice.id, createdBy: globalAdmin.id });

// --- subscription scope: privileged access administrators ---
const UAA_CONDITION =
  "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {ba92f5b4-2d11-453d-a403-e96b0029c9fe}))";
assign({ scope: subScope("stg"), role: ROLE.uaa, principal: members[30]!.id, condition: UAA_CONDITION, description: "May only grant Storage Blob Data Contributor" });
assign({ scope: subScope("prod"), role: ROLE.uaa, principal: disabledPriv[1]!.id }); // UAA without condition, held by a disabled user
assign({ scope: subScope("shared"), role: ROLE.rbacAdmin, principal: G("sg-azure-platform-admins").id });
assign({ scope: subScope("shared"), role: ROLE.accessDelegator, principal: U("deployPipeline").principalId });
assign({ scope: subScope("shared"), role: ROLE.accessDelegator, principal: members[35]!.id });
assign({ scope: subScope("prod"), role: ROLE.platformOperator, principal: G("sg-sre-oncall").id });
assign({ scope: subScope("prod"), role: ROLE.platformOperator, principal: members[40]!.id });

// --- subscription scope: automation identities with Contributor ---
assign({ scope: subScope("prod"), role: ROLE.contributor, principal: U("sharedApps").principalId, description: "Shared app identity" });
assign({ scope: subScope("prod"), role: ROLE.contributor, principal: sp.ghActionsWeb.id });
assign({ scope: subScope("prod"), role: ROLE.contributor, principal: MI("vm-app-prod-01").id });
assign({ scope: subScope("stg"), role: ROLE.contributor, principal: sp.adoRelease.id });
assign({ scope: subScope("stg"), role: ROLE.contributor, principal: U("deployPipeline").principalId });
assign({ scope: subScope("dev"), role: ROLE.contributor, principal: U("deployPipeline").principalId });
assign({ scope: subScope("dev"), role: ROLE.contributor, principal: sp.legacyEtl.id });
assign({ scope: subScope("dev"), role: ROLE.contributor, principal: sp.aksDevLegacy.id });
assign({ scope: subScope("dev"), role: ROLE.contributor, principal: sp.qaRunner.id });
assign({ scope: subScope("shared"), role: ROLE.contributor, principal: MI("vm-buildagent-01").id });
assign({ scope: subScope("shared"), role: ROLE.contributor, principal: U("backupAutomation").principalId });
assign({ scope: subScope("prod"), role: ROLE.reader, principal: sp.costExport.id });
assign({ scope: subScope("stg"), role: ROLE.reader, principal: sp.costExport.id });
assign({ scope: subScope("dev"), role: ROLE.reader, principal: sp.costExport.id });
assign({ scope: subScope("shared"), role: ROLE.reader, principal: sp.costExport.id });
assign({ scope: subScope("prod"), role: ROLE.reader, principal: sp.powerbiGateway.id });

// --- subscription scope: privileged guests and disabled users ---
assign({ scope: subScope("stg"), role: ROLE.contributor, principal: guestPriv[2]!.id });
assign({ scope: subScope("prod"), role: ROLE.contributor, principal: guestPriv[3]!.id });
assign({ scope: subScope("dev"), role: ROLE.contributor, principal: disabledPriv[2]!.id });
assign({ scope: subScope("shared"), role: ROLE.contributor, principal: disabledPriv[3]!.id });

// --- subscription scope: broad human access ---
for (const k of SUB_KEYS) {
  assign({ scope: subScope(k), role: ROLE.reader, principal: G("sg-azure-readers").id });
  assign({ scope: subScope(k), role: ROLE.monitoringReader, principal: G("sg-sre-oncall").id });
  assign({ scope: subScope(k), role: ROLE.reader, principal: G("sg-secops").id });
  assign({ scope: subScope(k), role: ROLE.contributor, principal: G("sg-azure-platform-admins").id });
}
assign({ scope: subScope("dev"), role: ROLE.contributor, principal: G("sg-web-developers").id });
assign({ scope: subScope("dev"), role: ROLE.contributor, principal: G("sg-data-engineers").id });
assign({ scope: subScope("stg"), role: ROLE.reader, principal: G("sg-web-developers").id });
const humanPool = members.filter((m) => !NO_ASSIGNMENTS.has(m.id));
for (let i = 0; i < 26; i++) {
  const k = pick(SUB_KEYS);
  const role = weighted<string>([
    [ROLE.reader, 6],
    [ROLE.contributor, k === "dev" ? 5 : 2],
    [ROLE.monitoringReader, 2],
  ]);
  assign({ scope: subScope(k), role, principal: pick(humanPool).id });
}

// --- resource group scope: team access (the bulk) ---
function rgRoles(rg: string, k: SubKey): Array<readonly [string, number]> {
  const roles: Array<[string, number]> = [
    [ROLE.reader, 34],
    [ROLE.contributor, 24],
    [ROLE.monitoringReader, 5],
  ];
  if (rg.includes("data") || rg.includes("ml")) roles.push([ROLE.blobReader, 14], [ROLE.blobContributor, 10], [ROLE.kvSecretsUser, 3]);
  if (rg.includes("web") || rg.includes("app")) roles.push([ROLE.websiteContributor, 10], [ROLE.kvSecretsUser, 4]);
  if (rg.includes("keyvault") || rg.includes("grantguard")) roles.push([ROLE.kvSecretsOfficer, 5], [ROLE.kvReader, 6], [ROLE.kvAdmin, 2]);
  if (k === "prod") roles.push([ROLE.supportReader, 6]);
  if (k === "stg") roles.push([ROLE.supportReaderLegacy, 4]);
  if (k === "prod" && rg.includes("data")) roles.push([ROLE.dataSteward, 5]);
  if (k === "prod" && rg.includes("app")) roles.push([ROLE.platformOperator, 3]);
  roles.push([ROLE.owner, 1.2]);
  return roles;
}
const TEAM_FOR_RG: Array<[RegExp, string[]]> = [
  [/web|app/, ["sg-web-developers", "sg-app-support", "sg-qa-engineers"]],
  [/data|ml/, ["sg-data-engineers", "sg-ml-researchers"]],
  [/network/, ["sg-network-team"]],
  [/monitoring/, ["sg-sre-oncall", "sg-finops"]],
  [/sandbox/, ["sg-web-developers", "sg-external-contractors"]],
  [/devops|identity|keyvault|grantguard/, ["sg-azure-platform-admins", "sg-secops"]],
];
const guestPool = guests.filter((g) => g.id !== FIXED.devContractor);
const disabledPool = disabled.filter((d) => d.id !== FIXED.formerAdmin);
for (const k of SUB_KEYS) {
  for (const rg of SUBS[k].rgs) {
    const scope = rgScope(k, rg);
    const teamGroups = TEAM_FOR_RG.filter(([re]) => re.test(rg)).flatMap(([, gs]) => gs);
    const n = k === "shared" ? int(9, 12) : int(12, 16);
    for (let i = 0; i < n; i++) {
      const who = weighted<string>([
        ["member", 70],
        ["group", 18],
        ["guest", 5],
        ["disabled", 3],
        ["app", 4],
      ]);
      let principal: string;
      if (who === "group") principal = teamGroups.length > 0 && chance(0.8) ? G(pick(teamGroups)).id : G(pick(GROUP_DEFS)[0]).id;
      else if (who === "guest") principal = pick(guestPool).id;
      else if (who === "disabled") principal = pick(disabledPool).id;
      else if (who === "app") principal = pick([sp.ghActionsData, sp.dnsAutomation, sp.certRenewal, sp.backupScripts, sp.qaRunner, sp.tailspin]).id;
      else principal = pick(humanPool).id;
      assign({ scope, role: weighted(rgRoles(rg, k)), principal });
    }
  }
}
// A few pointed resource-group grants
assign({ scope: rgScope("prod", "rg-data-prod"), role: ROLE.contributor, principal: sp.tailspin.id, description: "Backup vendor" });
assign({ scope: rgScope("prod", "rg-data-prod"), role: ROLE.dataSteward, principal: G("sg-data-engineers").id });
assign({ scope: rgScope("prod", "rg-network-prod"), role: ROLE.contributor, principal: sp.dnsAutomation.id });
assign({ scope: rgScope("shared", "rg-network-hub"), role: ROLE.contributor, principal: G("sg-network-team").id });
assign({ scope: rgScope("shared", "rg-grantguard"), role: ROLE.contributor, principal: alice.id, createdBy: alice.id, createdOn: ago(42.1) });
assign({ scope: rgScope("dev", "rg-app-dev"), role: ROLE.contributor, principal: U("ordersDev").principalId });
assign({ scope: rgScope("stg", "rg-web-stg"), role: ROLE.websiteContributor, principal: sp.adoRelease.id });

// --- resource scope: workload identities and data access ---
assign({ scope: res("prod", "stcontosodataprod01"), role: ROLE.blobContributor, principal: MI("app-contoso-api-prod").id });
assign({ scope: res("prod", "stcontosodataprod01"), role: ROLE.blobContributor, principal: U("dataIngest").principalId });
assign({ scope: res("prod", "stcontosoarchprod01"), role: ROLE.blobReader, principal: MI("vm-sql-prod-01").id });
assign({ scope: res("prod", "stcontosowebprod01"), role: ROLE.blobReader, principal: MI("app-contoso-web-prod").id });
assign({ scope: res("prod", "kv-contoso-data-prod"), role: ROLE.kvSecretsUser, principal: MI("vm-sql-prod-01").id });
assign({ scope: res("prod", "kv-contoso-app-prod"), role: ROLE.kvSecretsUser, principal: MI("app-contoso-web-prod").id });
assign({ scope: res("prod", "kv-contoso-app-prod"), role: ROLE.kvSecretsUser, principal: MI("app-contoso-api-prod").id });
assign({ scope: res("prod", "kv-contoso-app-prod"), role: ROLE.kvSecretsUser, principal: U("sharedApps").principalId });
assign({ scope: res("prod", "kv-contoso-app-prod"), role: ROLE.kvSecretsUser, principal: MI("vm-app-prod-02").id });
assign({ scope: res("stg", "stcontosodatastg01"), role: ROLE.blobContributor, principal: MI("func-orders-stg").id });
assign({ scope: res("stg", "kv-contoso-stg"), role: ROLE.kvSecretsUser, principal: MI("func-orders-stg").id });
assign({ scope: res("stg", "kv-contoso-stg"), role: ROLE.kvSecretsUser, principal: MI("vm-app-stg-01").id });
assign({ scope: res("dev", "stcontosodatadev01"), role: ROLE.blobContributor, principal: MI("func-orders-dev").id });
assign({ scope: res("dev", "kv-contoso-dev"), role: ROLE.kvSecretsUser, principal: MI("func-orders-dev").id });
assign({ scope: res("dev", "stcontosomldev01"), role: ROLE.blobOwner, principal: MI("vm-sandbox-dev-01").id });
assign({ scope: res("shared", "kv-contoso-shared"), role: ROLE.kvSecretsUser, principal: U("deployPipeline").principalId });
assign({ scope: res("shared", "kv-contoso-shared"), role: ROLE.kvSecretsUser, principal: U("backupAutomation").principalId });
assign({ scope: res("shared", "kv-contoso-shared"), role: ROLE.kvAdmin, principal: sofia.id });
assign({ scope: res("prod", "stcontosodataprod01"), role: ROLE.blobReader, principal: sp.powerbiGateway.id });
assign({ scope: res("prod", "stcontosoarchprod01"), role: ROLE.blobContributor, principal: sp.tailspin.id });
assign({ scope: res("prod", "stcontosodataprod01"), role: ROLE.blobContributor, principal: sp.ghActionsData.id });
const storageAndVaults = SUB_KEYS.flatMap((k) => resourceIdsBySub[k].filter((r) => r.type === ST || r.type === KV || r.type === SITE || r.type === VM).map((r) => ({ k, ...r })));
for (let i = 0; i < 36; i++) {
  const r = pick(storageAndVaults);
  const role =
    r.type === ST
      ? weighted<string>([[ROLE.blobReader, 5], [ROLE.blobContributor, 3], [ROLE.reader, 2]])
      : r.type === KV
        ? weighted<string>([[ROLE.kvSecretsUser, 4], [ROLE.kvReader, 3], [ROLE.kvSecretsOfficer, 2], [ROLE.kvAdmin, 1]])
        : r.type === SITE
          ? weighted<string>([[ROLE.websiteContributor, 5], [ROLE.reader, 3]])
          : weighted<string>([[ROLE.reader, 3], [ROLE.contributor, 2]]);
  const principal = chance(0.8) ? pick(humanPool).id : G(pick(GROUP_DEFS)[0]).id;
  assign({ scope: r.id, role, principal });
}

// --- orphaned assignments: principals deleted from the directory ---
const deletedPrincipals: Array<{ id: string; type: string; scope: string; role: string }> = [
  { id: guid(), type: "User", scope: subScope("prod"), role: ROLE.contributor },
  { id: guid(), type: "User", scope: rgScope("stg", "rg-data-stg"), role: ROLE.reader },
  { id: guid(), type: "ServicePrincipal", scope: subScope("dev"), role: ROLE.contributor },
  { id: guid(), type: "ServicePrincipal", scope: res("prod", "kv-contoso-data-prod"), role: ROLE.kvSecretsUser },
  { id: guid(), type: "User", scope: rgScope("shared", "rg-devops-shared"), role: ROLE.owner },
];
for (const d of deletedPrincipals) {
  assign({ scope: d.scope, role: d.role, principal: d.id, principalType: d.type, createdOn: agoBetween(300, 1000), createdBy: pick([formerAdmin.id, priya.id]) });
}

// ---------------------------------------------------------------------------------------------
// PIM: eligibility schedules, assignment schedule instances and requests (ARM shapes)
// ---------------------------------------------------------------------------------------------

const roleEligibilitySchedules: object[] = [];
const roleAssignmentScheduleInstances: object[] = [];
const roleAssignmentScheduleRequests: object[] = [];

function eligibility(principalId: string, scope: string, roleGuid: string, startDaysAgo: number, endInDays: number | null): string {
  const name = guid();
  const id = `${scope}/providers/Microsoft.Authorization/roleEligibilitySchedules/${name}`;
  roleEligibilitySchedules.push({
    id,
    name,
    type: "Microsoft.Authorization/roleEligibilitySchedules",
    properties: {
      scope,
      roleDefinitionId: roleDefinitionIdFor(roleGuid, scope),
      principalId,
      principalType: principalTypeOf(principalId),
      roleEligibilityScheduleRequestId: `${scope}/providers/Microsoft.Authorization/roleEligibilityScheduleRequests/${guid()}`,
      memberType: "Direct",
      status: "Provisioned",
      startDateTime: ago(startDaysAgo),
      endDateTime: endInDays === null ? null : ahead(endInDays),
      condition: null,
      conditionVersion: null,
      createdOn: ago(startDaysAgo),
      updatedOn: ago(startDaysAgo),
    },
  });
  return id;
}

const prefixOf = (scope: string) => (scope === "/" ? "" : scope);

/** The instance ARM lists for an active assignment; a mirror (no schedule of PIM's) for a direct one. */
function instanceOf(meta: AssignmentMeta, scheduleId: string, assignmentType: "Assigned" | "Activated", endDateTime: string | null, linkedEligibilityId: string | null): object {
  return {
    id: `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances/${meta.name}`,
    name: meta.name,
    type: "Microsoft.Authorization/roleAssignmentScheduleInstances",
    properties: {
      scope: meta.scope,
      roleDefinitionId: roleDefinitionIdFor(meta.roleGuid, meta.scope),
      principalId: meta.principalId,
      principalType: meta.principalType,
      roleAssignmentScheduleId: scheduleId,
      originRoleAssignmentId: `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignments/${meta.name}`,
      status: "Provisioned",
      startDateTime: meta.createdOn,
      endDateTime,
      ...(linkedEligibilityId
        ? { linkedRoleEligibilityScheduleId: linkedEligibilityId, linkedRoleEligibilityScheduleInstanceId: linkedEligibilityId.replace("roleEligibilitySchedules", "roleEligibilityScheduleInstances") }
        : {}),
      assignmentType,
      memberType: "Direct",
      condition: null,
      conditionVersion: null,
      createdOn: meta.createdOn,
    },
  };
}

/** An assignment PIM made: the request it was given (SelfActivate or AdminAssign) and the instance it made. */
function pimMade(meta: AssignmentMeta, requestType: "AdminAssign" | "SelfActivate", endDateTime: string | null, linkedEligibilityId: string | null, requestorId: string): void {
  const scheduleId = `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignmentSchedules/${guid()}`;
  const requestName = guid();
  roleAssignmentScheduleRequests.push({
    id: `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/${requestName}`,
    name: requestName,
    type: "Microsoft.Authorization/roleAssignmentScheduleRequests",
    properties: {
      scope: meta.scope,
      roleDefinitionId: roleDefinitionIdFor(meta.roleGuid, meta.scope),
      principalId: meta.principalId,
      principalType: meta.principalType,
      requestType,
      status: "Provisioned",
      approvalId: null,
      targetRoleAssignmentScheduleId: scheduleId,
      targetRoleAssignmentScheduleInstanceId: null,
      scheduleInfo: {
        startDateTime: meta.createdOn,
        expiration: endDateTime === null ? { type: "NoExpiration", endDateTime: null, duration: null } : { type: "AfterDateTime", endDateTime, duration: null },
      },
      linkedRoleEligibilityScheduleId: linkedEligibilityId,
      justification: requestType === "SelfActivate" ? "Production change CHG-2211" : "Standing owner approved by the CISO",
      ticketInfo: { ticketNumber: null, ticketSystem: null },
      condition: null,
      conditionVersion: null,
      createdOn: meta.createdOn,
      requestorId,
    },
  });
  roleAssignmentScheduleInstances.push(instanceOf(meta, scheduleId, requestType === "SelfActivate" ? "Activated" : "Assigned", endDateTime, linkedEligibilityId));
}

const [pimMarcus, pimDaniel, pimSofia] = pimOwners as [AssignmentMeta, AssignmentMeta, AssignmentMeta];
const marcusElig = eligibility(marcus.id, subScope("prod"), ROLE.owner, 240, 125);
pimMade(pimMarcus, "SelfActivate", new Date(Date.parse(pimMarcus.createdOn) + 8 * 3600_000).toISOString(), marcusElig, marcus.id);
pimMade(pimDaniel, "AdminAssign", ahead(120), null, priya.id);
// A permanent active assignment made in PIM: its instance looks exactly like a direct
// assignment's mirror; only PIM's request says PIM made it.
pimMade(pimSofia, "AdminAssign", null, null, priya.id);
eligibility(priya.id, subScope("shared"), ROLE.owner, 300, 65);
eligibility(daniel.id, subScope("stg"), ROLE.owner, 180, 185);
eligibility(G("sg-sre-oncall").id, subScope("prod"), ROLE.contributor, 400, null);
eligibility(sofia.id, mgScope(ROOT_MG), ROLE.uaa, 90, 275);

// ARM lists a mirror instance for every assignment made directly (no PIM request behind it):
// Assigned, Direct, no end, no linked eligibility, its schedule named after the assignment.
{
  const pimMadeNames = new Set(pimOwners.map((m) => m.name));
  for (const meta of assignmentMeta) {
    if (pimMadeNames.has(meta.name)) continue;
    roleAssignmentScheduleInstances.push(instanceOf(meta, `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignmentSchedules/${meta.name}`, "Assigned", null, null));
  }
}

// ---------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------

const SigninLogs: object[] = [];
const AADServicePrincipalSignInLogs: object[] = [];
const AADManagedIdentitySignInLogs: object[] = [];
const AzureActivity: object[] = [];

const FAIL_CODES = ["50126", "50074", "53003"];
function userSignIns(p: PrincipalInfo, guestUser: boolean): void {
  // Activity profile: active / stale (nothing in the last 90 days) / never seen in the window.
  let profile: "active" | "stale" | "none";
  if (p.id === FIXED.formerAdmin) profile = "stale";
  else if (p.kind === "disabled") profile = chance(0.5) ? "stale" : "none";
  else if (p.id === alice.id || p.id === bob.id || p.id === FIXED.devContractor || ADMINS.includes(p)) profile = "active";
  else profile = weighted<"active" | "stale" | "none">([
    ["active", 76],
    ["stale", 14],
    ["none", 10],
  ]);
  if (profile === "none") return;
  const createdAgo = p.createdDateTime ? msAgo(p.createdDateTime) : 1000;
  const windowMax = Math.min(120, createdAgo);
  const minAgo = profile === "stale" ? 91 : 0.05;
  if (windowMax <= minAgo) return;
  const count = profile === "stale" ? int(1, 3) : int(3, ADMINS.includes(p) ? 14 : 9);
  for (let i = 0; i < count; i++) {
    const app = weighted<{ id: string; name: string }>([
      [APP.azurePortal, 6],
      [APP.azureCli, 3],
      [APP.azurePowerShell, 1],
    ]);
    const failed = chance(0.05);
    SigninLogs.push({
      TimeGenerated: agoBetween(minAgo, windowMax),
      UserId: p.id,
      UserPrincipalName: p.upn,
      UserDisplayName: p.displayName,
      UserType: guestUser ? "Guest" : "Member",
      AppId: app.id,
      AppDisplayName: app.name,
      ResourceIdentity: ARM_RESOURCE.id,
      ResourceDisplayName: ARM_RESOURCE.name,
      ResultType: failed ? pick(FAIL_CODES) : "0",
      IPAddress: chance(0.85) ? p.homeIp : docIp(),
      CorrelationId: guid(),
    });
  }
}
for (const m of members) userSignIns(m, false);
for (const g of guests) userSignIns(g, true);
for (const d of disabled) userSignIns(d, false);

const appSps = Object.values(sp);
for (const s of appSps) {
  const profile =
    s === sp.legacyEtl || s === sp.aksDevLegacy ? "none" : s === sp.qaRunner ? "stale" : "active";
  if (profile === "none") continue;
  const n = profile === "stale" ? 2 : int(4, 10);
  const keyId = s.keyIds && s.keyIds.length > 0 ? s.keyIds[s.keyIds.length - 1]! : null;
  for (let i = 0; i < n; i++) {
    AADServicePrincipalSignInLogs.push({
      TimeGenerated: profile === "stale" ? agoBetween(95, 120) : agoBetween(0.05, 90),
      ServicePrincipalId: s.id,
      ServicePrincipalName: s.displayName,
      AppId: s.appId,
      ResourceIdentity: ARM_RESOURCE.id,
      ResourceDisplayName: ARM_RESOURCE.name,
      ResultType: chance(0.04) ? "7000215" : "0",
      ServicePrincipalCredentialKeyId: keyId,
      FederatedCredentialId: null,
      IPAddress: s.homeIp,
      CorrelationId: guid(),
    });
  }
}

const miPrincipals = [...info.values()].filter((p) => p.kind === "systemMI" || p.kind === "userMI");
for (const m of miPrincipals) {
  const idle = m.displayName === "id-orders-dev" || m.displayName === "vm-sandbox-dev-01" || m.displayName === "id-backup-automation";
  if (idle) continue;
  const isGrantguard = m.id === FIXED.grantguard.id;
  const n = isGrantguard ? 30 : int(3, 9);
  for (let i = 0; i < n; i++) {
    const target = isGrantguard ? ARM_RESOURCE : pick([ARM_RESOURCE, KV_RESOURCE, STORAGE_RESOURCE]);
    AADManagedIdentitySignInLogs.push({
      TimeGenerated: isGrantguard ? agoBetween(0.01, 41) : agoBetween(0.05, 120),
      ServicePrincipalId: m.id,
      ServicePrincipalName: m.displayName,
      AppId: m.appId,
      ResourceIdentity: target.id,
      ResourceDisplayName: target.name,
      ResultType: "0",
      CorrelationId: guid(),
    });
  }
}

// AzureActivity: Start/Success pairs for recent role assignment writes.
const CALLER_IP = new Map<string, string>();
for (const a of ADMINS) CALLER_IP.set(a.id, a.homeIp!);
CALLER_IP.set(globalAdmin.id, globalAdmin.homeIp!);
CALLER_IP.set(formerAdmin.id, formerAdmin.homeIp!);
/** Management group names from the tenant root down to `name`. */
function mgChain(name: string): string[] {
  const chain: string[] = [];
  let cur: string | null = name;
  while (cur !== null) {
    chain.unshift(cur);
    cur = managementGroupDefs.find((m) => m.name === cur)!.parent;
  }
  return chain;
}
function callerOf(id: string): string {
  const p = info.get(id);
  return p?.upn ?? id;
}
function activityPair(opts: {
  scope: string;
  assignmentName: string;
  roleGuid: string;
  principalId: string;
  principalType: string;
  callerId: string;
  time: string;
  status: "Success" | "Failed";
  ip: string;
  sub: string | null;
}): void {
  const correlationId = guid();
  const scopePrefix = opts.scope === "/" ? "" : opts.scope;
  const resourceId = `${scopePrefix}/providers/Microsoft.Authorization/roleAssignments/${opts.assignmentName}`;
  const roleDefinitionId = roleDefinitionIdFor(opts.roleGuid, opts.scope);
  const requestbody = JSON.stringify({
    Id: opts.assignmentName,
    Properties: {
      PrincipalId: opts.principalId,
      PrincipalType: opts.principalType,
      RoleDefinitionId: roleDefinitionId,
      Scope: opts.scope,
      Condition: null,
      ConditionVersion: null,
    },
  });
  const caller = callerOf(opts.callerId);
  const hierarchy = opts.sub ? [...mgChain(SUBS[opts.sub as SubKey].mg), SUBS[opts.sub as SubKey].id].join("/") : TENANT_ID;
  const base = {
    OperationNameValue: "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
    OperationName: "Create role assignment",
    CategoryValue: "Administrative",
    Caller: caller,
    CallerIpAddress: opts.ip,
    CorrelationId: correlationId,
    _ResourceId: resourceId.toLowerCase(),
    SubscriptionId: opts.sub ? SUBS[opts.sub as SubKey].id : "",
    ResourceProviderValue: "MICROSOFT.AUTHORIZATION",
    Level: "Informational",
  };
  const startMs = Date.parse(opts.time);
  AzureActivity.push({
    TimeGenerated: new Date(startMs).toISOString(),
    ...base,
    ActivityStatusValue: "Start",
    ActivitySubstatusValue: "",
    Properties_d: {
      eventCategory: "Administrative",
      entity: resourceId,
      message: "Microsoft.Authorization/roleAssignments/write",
      hierarchy,
      requestbody,
    },
  });
  AzureActivity.push({
    TimeGenerated: new Date(startMs + int(800, 4000)).toISOString(),
    ...base,
    ActivityStatusValue: opts.status,
    ActivitySubstatusValue: opts.status === "Success" ? "Created" : "Forbidden",
    Properties_d:
      opts.status === "Success"
        ? {
            eventCategory: "Administrative",
            entity: resourceId,
            message: "Microsoft.Authorization/roleAssignments/write",
            hierarchy,
            statusCode: "Created",
            serviceRequestId: guid(),
            responseBody: JSON.stringify({
              properties: {
                roleDefinitionId,
                principalId: opts.principalId,
                principalType: opts.principalType,
                scope: opts.scope,
                condition: null,
                conditionVersion: null,
                createdOn: new Date(startMs + 500).toISOString(),
                updatedOn: new Date(startMs + 500).toISOString(),
                createdBy: null,
                updatedBy: opts.callerId,
                delegatedManagedIdentityResourceId: null,
                description: null,
              },
              id: resourceId,
              type: "Microsoft.Authorization/roleAssignments",
              name: opts.assignmentName,
            }),
          }
        : {
            eventCategory: "Administrative",
            entity: resourceId,
            message: "Microsoft.Authorization/roleAssignments/write",
            hierarchy,
            statusCode: "Forbidden",
            serviceRequestId: guid(),
          },
  });
}

const recent = assignmentMeta
  .filter((m) => msAgo(m.createdOn) <= 90)
  .sort((a, b) => Date.parse(b.createdOn) - Date.parse(a.createdOn))
  .slice(0, 47);
for (const m of recent) {
  const t = new Date(Date.parse(m.createdOn) - 600).toISOString();
  activityPair({
    scope: m.scope,
    assignmentName: m.name,
    roleGuid: m.roleGuid,
    principalId: m.principalId,
    principalType: m.principalType,
    callerId: m.createdBy,
    time: t,
    status: "Success",
    ip: CALLER_IP.get(m.createdBy) ?? info.get(m.createdBy)?.homeIp ?? docIp(),
    sub: m.sub,
  });
}
// Three denied attempts (no assignment was created).
for (let i = 0; i < 3; i++) {
  const caller = pick(humanPool.slice(20, 60));
  const k = pick(SUB_KEYS);
  activityPair({
    scope: subScope(k),
    assignmentName: guid(),
    roleGuid: ROLE.owner,
    principalId: caller.id,
    principalType: "User",
    callerId: caller.id,
    time: agoBetween(1, 60),
    status: "Failed",
    ip: docIp(),
    sub: k,
  });
}
AzureActivity.sort((a, b) => Date.parse((a as { TimeGenerated: string }).TimeGenerated) - Date.parse((b as { TimeGenerated: string }).TimeGenerated));

const byTime = (a: object, b: object) => Date.parse((a as { TimeGenerated: string }).TimeGenerated) - Date.parse((b as { TimeGenerated: string }).TimeGenerated);
SigninLogs.sort(byTime);
AADServicePrincipalSignInLogs.sort(byTime);
AADManagedIdentitySignInLogs.sort(byTime);

// ---------------------------------------------------------------------------------------------
// Custom role definitions (after principals exist, for createdBy)
// ---------------------------------------------------------------------------------------------

function customRole(guidValue: string, roleName: string, description: string, permissions: Permission, createdDaysAgo: number, createdBy: string, alsoAssignableAt: readonly string[] = []): object {
  const k = CUSTOM_ROLE_SUB[guidValue]!;
  return {
    id: `/subscriptions/${SUBS[k].id}/providers/Microsoft.Authorization/roleDefinitions/${guidValue}`,
    name: guidValue,
    type: "Microsoft.Authorization/roleDefinitions",
    properties: {
      roleName,
      type: "CustomRole",
      description,
      assignableScopes: [`/subscriptions/${SUBS[k].id}`, ...alsoAssignableAt],
      permissions: [permissions],
      createdOn: ago(createdDaysAgo),
      updatedOn: ago(createdDaysAgo),
      createdBy,
      updatedBy: createdBy,
    },
  };
}
roleDefinitions.push(
  customRole(
    ROLE.accessDelegator,
    "Contoso Access Delegator",
    "Lets pipelines and team leads grant access without full ownership.",
    perm(["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/read"]),
    820,
    formerAdmin.id,
  ),
  customRole(
    ROLE.platformOperator,
    "Contoso Platform Operator",
    "Day-two platform operations; cannot delete networks, machines, vaults or resource groups.",
    perm(
      ["*"],
      [
        "Microsoft.Network/virtualNetworks/delete",
        "Microsoft.Compute/virtualMachines/delete",
        "Microsoft.KeyVault/vaults/delete",
        "Microsoft.Resources/subscriptions/resourceGroups/delete",
      ],
    ),
    640,
    priya.id,
  ),
  // Shared with every landing zone, so the Staging copy below duplicates a role Staging already had.
  customRole(ROLE.supportReader, "Contoso Support Reader", "Read-only access for application support.", perm(["*/read"]), 910, formerAdmin.id, [
    "/providers/Microsoft.Management/managementGroups/contoso-landingzones",
  ]),
  customRole(
    ROLE.dataSteward,
    "Contoso Data Steward",
    "Full data-plane access to Azure Storage for data stewards.",
    perm(["Microsoft.Storage/storageAccounts/read"], [], ["Microsoft.Storage/*"]),
    455,
    marcus.id,
  ),
  customRole(
    ROLE.supportReaderLegacy,
    "Contoso Support Reader (Staging)",
    "Read-only access for application support in staging (copy of Contoso Support Reader).",
    perm(["*/read"]),
    700,
    formerAdmin.id,
  ),
);

// ---------------------------------------------------------------------------------------------
// Write
// ---------------------------------------------------------------------------------------------

const snapshot = {
  tenantId: TENANT_ID,
  managementGroups,
  subscriptions,
  roleDefinitions,
  roleAssignments,
  roleAssignmentScheduleInstances,
  roleAssignmentScheduleRequests,
  roleEligibilitySchedules,
  principals,
  resources,
  logs: {
    SigninLogs,
    AADNonInteractiveUserSignInLogs: [],
    AADServicePrincipalSignInLogs,
    AADManagedIdentitySignInLogs,
    AzureActivity,
  },
};

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "tenant.json");
const text = JSON.stringify(snapshot, null, 2) + "\n";
writeFileSync(out, text);
console.log(
  `wrote ${out}: ${(text.length / 1024).toFixed(0)} KiB, ${roleAssignments.length} role assignments, ${principals.length} principals, ` +
    `${SigninLogs.length + AADServicePrincipalSignInLogs.length + AADManagedIdentitySignInLogs.length + AzureActivity.length} log rows`,
);
