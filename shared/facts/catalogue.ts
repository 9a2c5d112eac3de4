// The documented facts a policy condition can read. This catalogue is the single source for
// the CEL type environment (unknown names fail at load) and for the policy authors' reference.

/** A CEL type as a condition sees it; "dyn" marks a value that may be null (a string, a bool or a whole number). */
export type FactType = "string" | "bool" | "int" | "list<string>" | "dyn";

/** One readable fact: its CEL type, what it means, and an example value. */
export interface FactSpec {
  readonly type: FactType;
  readonly description: string;
  readonly example: unknown;
}

export const FACT_CATALOGUE = {
  assignment: {
    id: { type: "string", description: "Full ARM id of the role assignment.", example: "/subscriptions/1b6e…/providers/Microsoft.Authorization/roleAssignments/0f5c…" },
    name: { type: "string", description: "The assignment's name (a GUID).", example: "0f5c2a1e-…" },
    roleDefinitionId: { type: "string", description: "ARM id of the assigned role definition.", example: "/subscriptions/1b6e…/providers/Microsoft.Authorization/roleDefinitions/8e3af657-…" },
    principalId: { type: "string", description: "Object id of the principal that receives the role.", example: "c4e8a2f6-…" },
    principalType: { type: "string", description: "As ARM reports it: User, Group, ServicePrincipal, ForeignGroup or Device.", example: "User" },
    condition: { type: "dyn", description: "The ABAC condition text, or null.", example: null },
    conditionVersion: { type: "dyn", description: "The ABAC condition version, or null.", example: null },
    hasCondition: { type: "bool", description: "True when the assignment carries an ABAC condition.", example: false },
    description: { type: "dyn", description: "The assignment's description, or null.", example: null },
    hasDescription: { type: "bool", description: "True when the assignment has a non-empty description.", example: false },
    viaPim: { type: "dyn", description: "True when PIM made this active assignment: its schedule instance is an activation (Activated, or linked to an eligibility) or ends (a time-bound endDateTime), or PIM's latest request for the same grant assigns or activates it (roleAssignmentScheduleRequests: AdminAssign, SelfActivate, …). False when it was made directly: ARM lists a mirror instance (Assigned, Direct, no end) for every direct assignment, which does not count. Null when PIM cannot be read, or when its requests cannot and the instance looks like a mirror (a permanent PIM assignment looks the same).", example: false },
    permanent: { type: "dyn", description: "True when nothing ends the assignment (its schedule instance, mirror or not, has no endDateTime), false when PIM ends it, null when PIM data is unavailable.", example: true },
    pimAssignmentType: { type: "dyn", description: "PIM's assignmentType when PIM made the assignment: Assigned (an active assignment in PIM) or Activated (an eligible role activated); null otherwise, including for a direct assignment's mirror (which ARM also calls Assigned).", example: null },
    createdOn: { type: "dyn", description: "When ARM created the assignment (ISO 8601), or null.", example: "2026-11-20T09:14:02.000Z" },
    createdBy: { type: "dyn", description: "Object id that ARM records as the creator, or null.", example: "0a6d3f1b-…" },
    ageDays: { type: "dyn", description: "Whole days since ARM created the assignment (int), as of a tenant sweep; null on the event path (the assignment is new) and when createdOn is unknown.", example: 120 },
  },
  scope: {
    id: { type: "string", description: "The scope the role is granted at.", example: "/subscriptions/1b6e…" },
    level: { type: "string", description: "root, managementGroup, subscription, resourceGroup or resource.", example: "subscription" },
    managementGroup: { type: "dyn", description: "Management group name when the scope is one, else null.", example: null },
    subscriptionId: { type: "dyn", description: "Subscription id (lower case) when the scope is in one, else null.", example: "1b6e2c4a-…" },
    resourceGroup: { type: "dyn", description: "Resource group name when the scope is in one, else null.", example: null },
    resourceType: { type: "dyn", description: "Resource type (Provider/type/subtype) at resource scope, else null.", example: null },
  },
  role: {
    id: { type: "string", description: "ARM id of the role definition.", example: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-…" },
    guid: { type: "string", description: "The role definition GUID (lower case), equal for a role at every scope.", example: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635" },
    name: { type: "string", description: "Display name of the role. Informative only: never decide on it.", example: "Owner" },
    type: { type: "string", description: "BuiltInRole or CustomRole.", example: "BuiltInRole" },
    builtIn: { type: "bool", description: "True for a built-in role.", example: true },
    custom: { type: "bool", description: "True for a custom role.", example: false },
    actions: { type: "list<string>", description: "Control-plane actions over all permission blocks.", example: ["*"] },
    notActions: { type: "list<string>", description: "Control-plane actions removed.", example: [] },
    dataActions: { type: "list<string>", description: "Data-plane actions.", example: [] },
    notDataActions: { type: "list<string>", description: "Data-plane actions removed.", example: [] },
    canWrite: { type: "bool", description: "Some effective control-plane action is more than a read (write, delete or action).", example: true },
    canWriteRoleAssignments: { type: "bool", description: "Effective actions include Microsoft.Authorization/roleAssignments/write (can delegate access).", example: true },
    canWriteRoleDefinitions: { type: "bool", description: "Effective actions include Microsoft.Authorization/roleDefinitions/write.", example: true },
    canElevateAccess: { type: "bool", description: "Effective actions include Microsoft.Authorization/elevateAccess/action.", example: false },
    canWriteAnyResource: { type: "bool", description: "A provider wildcard (`*`, `*/write`) lets it write resources of every provider.", example: true },
    hasWildcardActions: { type: "bool", description: "The actions contain `*` itself.", example: true },
    hasWildcardDataActions: { type: "bool", description: "The data actions contain `*` or a `Provider/*` wildcard.", example: false },
    privileged: { type: "bool", description: "Any of canWriteRoleAssignments, canWriteRoleDefinitions, canElevateAccess, canWriteAnyResource.", example: true },
    privilegedActions: { type: "list<string>", description: "Which privileged capabilities hold (operation names, or `*/write`).", example: ["Microsoft.Authorization/roleAssignments/write", "*/write"] },
    duplicateOf: { type: "list<string>", description: "Names of other custom roles with exactly the same effective permissions (empty for built-in roles).", example: ["Contoso Support Reader"] },
  },
  principal: {
    id: { type: "string", description: "Object id of the principal.", example: "c4e8a2f6-…" },
    exists: { type: "bool", description: "False when Microsoft Graph does not know the object (a deleted identity), after retries, and never for an assignment made so recently that Graph may not have replicated its principal yet (that event is retried later instead). True for a ForeignGroup, which Graph is never asked about.", example: true },
    kind: { type: "string", description: "user, guest, group, servicePrincipal, managedIdentity, foreignGroup (principalType ForeignGroup: a group of another directory), or unknown when it does not exist.", example: "guest" },
    displayName: { type: "dyn", description: "Display name, or null.", example: "Dev Contractor (Fabrikam)" },
    userPrincipalName: { type: "dyn", description: "UPN of a user, or null.", example: "dev.contractor_fabrikam.com#EXT#@contoso.onmicrosoft.com" },
    guest: { type: "bool", description: "A user whose userType is Guest, as Microsoft Graph reports it (never guessed from the UPN).", example: true },
    enabled: { type: "dyn", description: "accountEnabled as Graph reports it (true, false or null).", example: true },
    disabled: { type: "bool", description: "True only when Graph reports accountEnabled = false (sign-in blocked).", example: false },
    servicePrincipalType: { type: "dyn", description: "Application, ManagedIdentity, Legacy or SocialIdp for service principals, else null.", example: null },
    managedIdentityType: { type: "dyn", description: "systemAssigned or userAssigned for managed identities, else null.", example: null },
    appId: { type: "dyn", description: "Application (client) id of a service principal, else null.", example: null },
    external: { type: "bool", description: "From another directory: a guest, a user with an #EXT# UPN (an external member), a service principal owned by another tenant, or a ForeignGroup.", example: true },
    hasPasswordCredentials: { type: "bool", description: "A service principal holding at least one password (client secret).", example: false },
    workloadsKnown: { type: "bool", description: "True when grantguard knows which resources run as this managed identity (always for system-assigned; for user-assigned, from a snapshot's resources).", example: true },
    workloadResources: { type: "list<string>", description: "ARM ids of the resources that run as this managed identity (empty when unknown or not a managed identity).", example: ["/subscriptions/1b6e…/resourceGroups/rg-web-prod/providers/Microsoft.Web/sites/func-orders-prod"] },
    workloadResourceGroups: { type: "list<string>", description: "The distinct resource groups (lower-case ids) of those resources.", example: ["/subscriptions/1b6e…/resourcegroups/rg-web-prod"] },
    lastSignIn: { type: "dyn", description: "The last successful sign-in (ISO 8601) in the sign-in logs (SigninLogs, AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs; ResultType \"0\") within the sweep's lookback window. Null when none is logged in the window, when the logs are unavailable or partial, on the event path (no logs per event), and for groups, which do not sign in.", example: "2026-10-02T08:15:00.000Z" },
    daysSinceSignIn: { type: "dyn", description: "Whole days since lastSignIn (int). When the logs answered completely and hold no successful sign-in in the window, the window's length: at least that many days. Null when the logs do not know (unavailable or partial, the event path) and for groups and deleted or foreign principals.", example: 97 },
    createdDaysAgo: { type: "dyn", description: "Whole days since Microsoft Graph's createdDateTime (int), as of a tenant sweep. Null when Graph has no createdDateTime (service principals may lack it) and on the event path.", example: 400 },
  },
  atScope: {
    assignments: { type: "int", description: "Role assignments at exactly this assignment's scope (not inherited ones).", example: 12 },
    owners: { type: "int", description: "Owner assignments at exactly this scope.", example: 4 },
    permanentOwners: { type: "int", description: "Owner assignments at this scope that nothing ends (no PIM endDateTime; a direct assignment's mirror does not end either).", example: 3 },
    ownerPercent: { type: "int", description: "owners as a whole-number percentage of assignments at this scope.", example: 33 },
    privilegedAssignments: { type: "int", description: "Assignments of privileged roles at this scope.", example: 5 },
  },
  grantedBy: {
    objectId: { type: "dyn", description: "Object id of the caller who made the grant (token claim), or null.", example: "0a6d3f1b-…" },
    upn: { type: "dyn", description: "UPN of the caller, or null for applications.", example: "alice@contoso.com" },
    name: { type: "dyn", description: "Display name of the caller, or null.", example: "Alice Martin" },
    appId: { type: "dyn", description: "Client application used for the call, or null.", example: "04b07795-…" },
    ipAddress: { type: "dyn", description: "Caller's IP address, or null.", example: "203.0.113.7" },
    identityType: { type: "dyn", description: "user or app (token idtyp claim), or null.", example: "user" },
    seenInBaseline: { type: "dyn", description: "True when the same caller, from the same IP address, wrote a role assignment in the 14 days before this grant (AzureActivity, successful roleAssignments/write, as in Sentinel's \"granting permissions to account\" rule); false when that pair did not. Null when the activity log does not record this grant, when the baseline lies outside the logs' window or the logs are unavailable or partial, and on the event path.", example: false },
  },
  activity: {
    known: { type: "bool", description: "True when the administrative activity log answered completely for the sweep's window and the principal acts under its own name (a user, service principal or managed identity that exists). False on the event path, for groups (their members act, not the group), and when the logs are unavailable or partial: then every other activity fact is empty or null.", example: true },
    lookbackDays: { type: "int", description: "The window, in days, the activity facts cover (0 when activity.known is false).", example: 90 },
    operations: { type: "list<string>", description: "The distinct operations (lower-case AzureActivity OperationNameValue) the principal used successfully in the window: writes, deletes and actions only. Administrative logs never record reads or data-plane use, so a read is never missing from here for lack of use.", example: ["microsoft.compute/virtualmachines/start/action"] },
    lastUsed: { type: "dyn", description: "When the principal last used any operation (ISO 8601), or null when it used none in the window or activity.known is false.", example: "2026-11-18T10:02:11.000Z" },
    unusedPrivilegedActions: { type: "list<string>", description: "The role's privilegedActions that no used operation matched (wildcards such as `*/write` matched case-insensitively, as Azure matches actions). Empty when activity.known is false.", example: ["Microsoft.Authorization/roleAssignments/write"] },
    narrowestBuiltInRole: { type: "dyn", description: "The built-in role with the fewest effective actions (a wildcard counts by how much it covers) that allows every used operation, or null: when nothing was used, activity.known is false, or the role grants data actions (administrative logs cannot see data-plane use).", example: "Virtual Machine Contributor" },
  },
} as const satisfies Record<string, Record<string, FactSpec>>;

export type FactVariable = keyof typeof FACT_CATALOGUE;
export const FACT_VARIABLES = Object.keys(FACT_CATALOGUE) as FactVariable[];
