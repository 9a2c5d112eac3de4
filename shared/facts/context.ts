import type { Principal, RoleAssignment, RoleDefinition } from "../model/access.js";

// Facts about the rest of the tenant that one assignment's judgement needs: counts at its
// scope, the PIM schedule behind it, other custom roles, where an identity's workloads live.
// Two implementations answer the same questions: one over a tenant snapshot (the what-if,
// tests, benchmarks) and one over ARM (the event path). Facts a source cannot know are null
// or marked unknown, never guessed.

/** The assignments at exactly one scope, counted. */
export interface ScopeSummary {
  readonly assignments: number;
  readonly owners: number;
  /** Owner assignments not backed by a time-bound PIM schedule. */
  readonly permanentOwners: number;
  readonly privilegedAssignments: number;
}

/** What PIM says about an active assignment (the rule is in pim.ts); null fields when PIM data is unavailable. */
export interface PimStatus {
  /**
   * True when PIM made the assignment (an activation, a time-bound PIM schedule, or a PIM
   * assign/activate request), false when it was made directly (its instance, if any, is only
   * ARM's mirror), null when PIM or its requests cannot be read and the two look alike.
   */
  readonly viaPim: boolean | null;
  /** True when nothing ends the assignment (no PIM end date); null when PIM cannot be read. */
  readonly permanent: boolean | null;
  /** PIM's assignmentType when PIM made it: "Assigned" (active assignment) or "Activated"; else null. */
  readonly assignmentType: string | null;
}

/** The resources an identity runs in, and the resource groups they sit in. */
export interface Workloads {
  readonly known: boolean;
  readonly resourceIds: readonly string[];
  readonly resourceGroups: readonly string[];
}

/** The tenant-wide questions facts ask while judging one assignment. */
export interface TenantContext {
  scopeSummary(scope: string): Promise<ScopeSummary>;
  pimStatus(assignment: RoleAssignment): Promise<PimStatus>;
  /** Names of the other custom roles whose effective permissions equal this one's. */
  duplicateRoleNames(role: RoleDefinition, scope: string): Promise<readonly string[]>;
  workloads(principal: Principal | null): Promise<Workloads>;
}

export const OWNER_ROLE_GUID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

/** The resource group id ("/subscriptions/s/resourceGroups/rg", lower case) of a resource id, or null. */
export function resourceGroupOf(resourceId: string): string | null {
  const match = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+/i.exec(resourceId);
  return match ? match[0].toLowerCase() : null;
}

/** The ARM resource id a managed identity's alternativeNames carry (its host, or the identity resource). */
export function managedIdentityResourceId(principal: Principal | null): string | null {
  if (!principal || principal["@odata.type"] !== "#microsoft.graph.servicePrincipal" || principal.servicePrincipalType !== "ManagedIdentity") return null;
  return principal.alternativeNames.find((n) => n.startsWith("/subscriptions/")) ?? null;
}

/** Workloads of a system-assigned identity: its host resource (no lookup needed). */
export function systemAssignedWorkloads(principal: Principal | null): Workloads | undefined {
  const resourceId = managedIdentityResourceId(principal);
  if (!resourceId || /\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\//i.test(resourceId)) return undefined;
  const group = resourceGroupOf(resourceId);
  return { known: true, resourceIds: [resourceId], resourceGroups: group ? [group] : [] };
}

/** A canonical text of a role's effective permissions, equal for roles that grant the same. */
export function permissionSignature(role: RoleDefinition): string {
  const norm = (xs: readonly string[]) => [...new Set(xs.map((x) => x.toLowerCase()))].sort().join(",");
  return role.permissions
    .map((p) => `${norm(p.actions)}|${norm(p.notActions)}|${norm(p.dataActions)}|${norm(p.notDataActions)}`)
    .sort()
    .join(";");
}

/** True when the assignment and a PIM record are the same grant (principal, role GUID, scope; ids compared case-insensitively). */
export function sameGrant(a: { principalId: string; roleDefinitionId: string; scope: string }, b: { principalId: string; roleDefinitionId: string; scope: string }): boolean {
  const guid = (id: string) => (id.split("/").pop() ?? "").toLowerCase();
  return a.principalId.toLowerCase() === b.principalId.toLowerCase() && guid(a.roleDefinitionId) === guid(b.roleDefinitionId) && a.scope.replace(/\/+$/, "").toLowerCase() === b.scope.replace(/\/+$/, "").toLowerCase();
}
