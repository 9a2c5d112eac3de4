import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../model/access.js";
import type { TenantSnapshot } from "../model/snapshot.js";
import { privilegeOf } from "./build.js";
import { ScopeHierarchy, roleListingScope } from "./hierarchy.js";
import { managedIdentityResourceId, OWNER_ROLE_GUID, permissionSignature, resourceGroupOf, systemAssignedWorkloads, type PimStatus, type ScopeSummary, type TenantContext, type Workloads } from "./context.js";
import { pimInstanceFromArm, pimRequestFromArm, pimStatusOf, type PimInstanceRecord, type PimRequestRecord } from "./pim.js";

// One grant: the same principal, role and scope, whatever the casing or the role id's prefix.
const key = (principalId: string, roleDefinitionId: string, scope: string) =>
  `${principalId.toLowerCase()}|${roleDefinitionGuid(roleDefinitionId)}|${scope.replace(/\/+$/, "").toLowerCase() || "/"}`;

/** The tenant context of a snapshot, indexed once: every question is a map lookup. */
export class SnapshotContext implements TenantContext {
  readonly #summaries = new Map<string, ScopeSummary>();
  // PIM instances and requests per grant; null when the snapshot has no such section (unknown).
  readonly #instances: Map<string, PimInstanceRecord[]> | null;
  readonly #requests: Map<string, PimRequestRecord[]> | null;
  readonly #customRoles: { readonly role: RoleDefinition; readonly signature: string; readonly assignableScopes: ReadonlySet<string> }[] = [];
  readonly #hierarchy: ScopeHierarchy;
  readonly #uaiWorkloads = new Map<string, string[]>();

  constructor(snapshot: TenantSnapshot) {
    const roles = new Map(snapshot.roleDefinitions.map((d) => [d.name.toLowerCase(), roleDefinitionFromArm(d)]));
    this.#instances = snapshot.roleAssignmentScheduleInstances === undefined ? null : byGrant(snapshot.roleAssignmentScheduleInstances.map(pimInstanceFromArm));
    this.#requests = snapshot.roleAssignmentScheduleRequests === undefined ? null : byGrant(snapshot.roleAssignmentScheduleRequests.map(pimRequestFromArm));

    for (const [scope, summary] of scopeSummaries(snapshot.roleAssignments.map(roleAssignmentFromArm), roles, (a) => this.#pimOf(a).permanent)) this.#summaries.set(scope, summary);

    this.#hierarchy = new ScopeHierarchy(snapshot);
    for (const role of roles.values()) {
      if (role.roleType !== "CustomRole") continue;
      this.#customRoles.push({ role, signature: permissionSignature(role), assignableScopes: new Set(role.assignableScopes.map((s) => s.replace(/\/+$/, "").toLowerCase() || "/")) });
    }

    for (const resource of snapshot.resources) {
      const identities = (resource as { identity?: { userAssignedIdentities?: Record<string, unknown> } }).identity?.userAssignedIdentities ?? {};
      for (const identityId of Object.keys(identities)) {
        const k = identityId.toLowerCase();
        this.#uaiWorkloads.set(k, [...(this.#uaiWorkloads.get(k) ?? []), resource.id]);
      }
    }
  }

  // The same rule as the event path (pimStatusOf), fed only the records of this grant.
  #pimOf(a: RoleAssignment): PimStatus {
    const k = key(a.principalId, a.roleDefinitionId, a.scope);
    return pimStatusOf(a, this.#instances && (this.#instances.get(k) ?? []), this.#requests && (this.#requests.get(k) ?? []));
  }

  async scopeSummary(scope: string): Promise<ScopeSummary> {
    return this.#summaries.get(scope.replace(/\/+$/, "").toLowerCase() || "/") ?? { assignments: 0, owners: 0, permanentOwners: 0, privilegedAssignments: 0 };
  }

  async pimStatus(assignment: RoleAssignment): Promise<PimStatus> {
    return this.#pimOf(assignment);
  }

  // As ARM answers it: the other custom roles assignable where the assignment's roles are listed.
  async duplicateRoleNames(role: RoleDefinition, scope: string): Promise<readonly string[]> {
    if (role.roleType !== "CustomRole") return [];
    const visible = new Set(this.#hierarchy.ancestors(roleListingScope(scope)));
    const signature = permissionSignature(role);
    return this.#customRoles
      .filter((c) => c.role.name.toLowerCase() !== role.name.toLowerCase() && c.signature === signature && [...c.assignableScopes].some((s) => visible.has(s)))
      .map((c) => c.role.roleName);
  }

  async workloads(principal: Principal | null): Promise<Workloads> {
    const system = systemAssignedWorkloads(principal);
    if (system) return system;
    const identityId = managedIdentityResourceId(principal);
    if (!identityId) return { known: false, resourceIds: [], resourceGroups: [] };
    const resourceIds = this.#uaiWorkloads.get(identityId.toLowerCase()) ?? [];
    return { known: true, resourceIds, resourceGroups: [...new Set(resourceIds.map(resourceGroupOf).filter((g): g is string => g !== null))] };
  }
}

function byGrant<T extends { principalId: string; roleDefinitionId: string; scope: string }>(records: readonly (T | null)[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const r of records) {
    if (!r) continue;
    const k = key(r.principalId, r.roleDefinitionId, r.scope);
    map.set(k, [...(map.get(k) ?? []), r]);
  }
  return map;
}

/**
 * The assignments at each scope (lower case, no trailing slash), counted: all, Owners, Owners
 * nothing ends (`permanent` is PIM's answer; unknown counts as permanent), privileged ones.
 */
export function scopeSummaries(assignments: Iterable<RoleAssignment>, roles: ReadonlyMap<string, RoleDefinition>, permanent: (a: RoleAssignment) => boolean | null): Map<string, ScopeSummary> {
  const counts = new Map<string, { assignments: number; owners: number; permanentOwners: number; privilegedAssignments: number }>();
  for (const a of assignments) {
    const scope = a.scope.replace(/\/+$/, "").toLowerCase() || "/";
    const entry = counts.get(scope) ?? { assignments: 0, owners: 0, permanentOwners: 0, privilegedAssignments: 0 };
    const guid = roleDefinitionGuid(a.roleDefinitionId);
    entry.assignments += 1;
    if (guid === OWNER_ROLE_GUID) {
      entry.owners += 1;
      if (permanent(a) !== false) entry.permanentOwners += 1;
    }
    const role = roles.get(guid);
    if (role && privilegeOf(role).privileged) entry.privilegedAssignments += 1;
    counts.set(scope, entry);
  }
  return counts;
}
