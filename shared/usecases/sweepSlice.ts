import { permissionSignature, systemAssignedWorkloads, type PimStatus, type ScopeSummary, type TenantContext, type Workloads } from "../facts/context.js";
import { ScopeHierarchy, roleListingScope } from "../facts/hierarchy.js";
import { scopeSummaries } from "../facts/snapshotContext.js";
import { pimStatusOf, type PimInstanceRecord, type PimRequestRecord } from "../facts/pim.js";
import { findingsPartition } from "../findings/keys.js";
import { roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../model/access.js";

// The tenant context of one shard of a live sweep, built from the shard's own slice: every
// assignment at a scope lives in that scope's findings partition, so the shard that holds the
// partition can count it alone; PIM is read in bulk per partition (not per assignment); custom
// roles and the management-group tree come from the run's plan. Nothing else of the tenant is held.

/** Where a management group and a subscription sit: each one's parent group (null at the top). */
export interface TenantTree {
  /** The tenant the containers belong to (Resource Graph's tenantId column); null when none is visible. */
  readonly tenantId: string | null;
  readonly managementGroups: readonly { readonly name: string; readonly parent: string | null }[];
  readonly subscriptions: readonly { readonly subscriptionId: string; readonly managementGroup: string | null }[];
}

/** PIM's instances and requests of one partition; null where PIM cannot be read (facts then stay unknown). */
export interface PartitionPim {
  readonly instances: readonly PimInstanceRecord[] | null;
  readonly requests: readonly PimRequestRecord[] | null;
}

const normScope = (scope: string) => scope.replace(/\/+$/, "").toLowerCase() || "/";
const grantKey = (g: { principalId: string; roleDefinitionId: string; scope: string }) => `${g.principalId.toLowerCase()}|${roleDefinitionGuid(g.roleDefinitionId)}|${normScope(g.scope)}`;

/** The ScopeHierarchy of a tree read from Resource Graph's `resourcecontainers`. */
export function hierarchyOf(tree: TenantTree): ScopeHierarchy {
  const mgId = (name: string) => `/providers/Microsoft.Management/managementGroups/${name}`;
  return new ScopeHierarchy({
    managementGroups: tree.managementGroups.map((m) => ({ id: mgId(m.name), name: m.name, properties: { details: { parent: m.parent ? { id: mgId(m.parent) } : null } } })),
    subscriptions: tree.subscriptions.map((s) => ({ id: `/subscriptions/${s.subscriptionId}`, subscriptionId: s.subscriptionId, ...(s.managementGroup ? { managementGroupId: mgId(s.managementGroup) } : {}) })),
  });
}

/** TenantContext over one shard's assignments, its partitions' PIM records and the run's roles and tree. */
export class SliceContext implements TenantContext {
  readonly #summaries: ReadonlyMap<string, ScopeSummary>;
  readonly #pim: ReadonlyMap<string, { readonly instances: Map<string, PimInstanceRecord[]> | null; readonly requests: Map<string, PimRequestRecord[]> | null }>;
  readonly #customRoles: { readonly role: RoleDefinition; readonly signature: string; readonly assignableScopes: ReadonlySet<string> }[] = [];

  constructor(
    assignments: readonly RoleAssignment[],
    roles: ReadonlyMap<string, RoleDefinition>,
    pim: ReadonlyMap<string, PartitionPim>,
    private readonly hierarchy: ScopeHierarchy,
  ) {
    this.#pim = new Map([...pim].map(([partition, p]) => [partition, { instances: p.instances && byGrant(p.instances), requests: p.requests && byGrant(p.requests) }]));
    this.#summaries = scopeSummaries(assignments, roles, (a) => this.#pimOf(a).permanent);
    for (const role of roles.values()) {
      if (role.roleType !== "CustomRole") continue;
      this.#customRoles.push({ role, signature: permissionSignature(role), assignableScopes: new Set(role.assignableScopes.map(normScope)) });
    }
  }

  // The same rule as the event path and the snapshot (pimStatusOf), fed this grant's records only.
  #pimOf(a: RoleAssignment): PimStatus {
    const pim = this.#pim.get(findingsPartition(a.scope));
    const k = grantKey(a);
    if (!pim) return pimStatusOf(a, null, null);
    return pimStatusOf(a, pim.instances && (pim.instances.get(k) ?? []), pim.requests && (pim.requests.get(k) ?? []));
  }

  async scopeSummary(scope: string): Promise<ScopeSummary> {
    return this.#summaries.get(normScope(scope)) ?? { assignments: 0, owners: 0, permanentOwners: 0, privilegedAssignments: 0 };
  }

  async pimStatus(assignment: RoleAssignment): Promise<PimStatus> {
    return this.#pimOf(assignment);
  }

  // As ARM answers it: the other custom roles assignable where the assignment's roles are listed.
  async duplicateRoleNames(role: RoleDefinition, scope: string): Promise<readonly string[]> {
    if (role.roleType !== "CustomRole") return [];
    const visible = new Set(this.hierarchy.ancestors(roleListingScope(scope)));
    const signature = permissionSignature(role);
    return this.#customRoles
      .filter((c) => c.role.name.toLowerCase() !== role.name.toLowerCase() && c.signature === signature && [...c.assignableScopes].some((s) => visible.has(s)))
      .map((c) => c.role.roleName);
  }

  // A system-assigned identity's host is in its own name; a user-assigned one's workloads would
  // need every resource of the tenant, which the sweep does not read: unknown, as on the event path.
  async workloads(principal: Principal | null): Promise<Workloads> {
    return systemAssignedWorkloads(principal) ?? { known: false, resourceIds: [], resourceGroups: [] };
  }
}

function byGrant<T extends { principalId: string; roleDefinitionId: string; scope: string }>(records: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const r of records) {
    const k = grantKey(r);
    map.set(k, [...(map.get(k) ?? []), r]);
  }
  return map;
}
