import { SUBS, subOfScope, type SubKey } from "./layout.js";
import { ago } from "./time.js";

// The role catalogue: the built-in role definitions the demo tenant uses, with their permissions
// as Azure publishes them, and the tenant's own custom roles.

/** An entry of a role definition's permissions. */
export type Permission = { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] };
/** A permission entry; the lists left out are empty. */
export const perm = (actions: string[], notActions: string[] = [], dataActions: string[] = [], notDataActions: string[] = []): Permission => ({
  actions,
  notActions,
  dataActions,
  notDataActions,
});

/** The role definition GUIDs the demo tenant uses: built-in roles as Azure publishes them, and its custom roles. */
export const ROLE = {
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

/** The built-in role definitions in the snapshot's shape (ARM serves them at "/"). */
export const builtInRoleDefinitions: readonly object[] = builtIns.map((r) => ({
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

/** The roleDefinitionId of an assignment of `roleGuid` at `scope`; throws for a custom role not assignable there. */
export function roleDefinitionIdFor(roleGuid: string, scope: string): string {
  const sub = subOfScope(scope);
  if (!BUILT_IN_GUIDS.has(roleGuid)) {
    const home = CUSTOM_ROLE_SUB[roleGuid];
    if (!home || sub !== home) throw new Error(`custom role ${roleGuid} not assignable at ${scope}`);
  }
  return sub ? `/subscriptions/${SUBS[sub].id}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}` : `/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
}

/** A custom role defined in its home subscription (and assignable at `alsoAssignableAt`). */
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

/** Who made each custom role (principals of the directory). */
export interface CustomRoleAuthors {
  readonly formerAdmin: string;
  readonly priya: string;
  readonly marcus: string;
}

/** The tenant's custom role definitions in the snapshot's shape. */
export function customRoleDefinitions(by: CustomRoleAuthors): object[] {
  return [
    customRole(
      ROLE.accessDelegator,
      "Contoso Access Delegator",
      "Lets pipelines and team leads grant access without full ownership.",
      perm(["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/read"]),
      820,
      by.formerAdmin,
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
      by.priya,
    ),
    // Shared with every landing zone, so the Staging copy below duplicates a role Staging already had.
    customRole(ROLE.supportReader, "Contoso Support Reader", "Read-only access for application support.", perm(["*/read"]), 910, by.formerAdmin, [
      "/providers/Microsoft.Management/managementGroups/contoso-landingzones",
    ]),
    customRole(
      ROLE.dataSteward,
      "Contoso Data Steward",
      "Full data-plane access to Azure Storage for data stewards.",
      perm(["Microsoft.Storage/storageAccounts/read"], [], ["Microsoft.Storage/*"]),
      455,
      by.marcus,
    ),
    customRole(
      ROLE.supportReaderLegacy,
      "Contoso Support Reader (Staging)",
      "Read-only access for application support in staging (copy of Contoso Support Reader).",
      perm(["*/read"]),
      700,
      by.formerAdmin,
    ),
  ];
}
