import type { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { RoleDefinitions } from "../facts/sources.js";
import { roleDefinitionFromSdk } from "./arm.js";
import { privilegeOf } from "../facts/build.js";
import { OWNER_ROLE_GUID, permissionSignature, systemAssignedWorkloads, type PimStatus, type ScopeSummary, type TenantContext, type Workloads } from "../facts/context.js";
import { roleListingScope } from "../facts/hierarchy.js";
import { pimStatusOf, type PimInstanceRecord, type PimRequestRecord } from "../facts/pim.js";
import { roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../model/access.js";

/** A short-lived memo: one event asks about the same scope several times in a row. */
class Memo<T> {
  readonly #entries = new Map<string, { expiresAt: number; value: Promise<T> }>();
  constructor(private readonly ttlMs: number) {}
  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const value = load();
    this.#entries.set(key, { expiresAt: now + this.ttlMs, value });
    value.catch(() => this.#entries.delete(key));
    return value;
  }
}

const normScope = (scope: string) => scope.replace(/\/+$/, "").toLowerCase() || "/";

/** The call's result, or null when ARM refuses to show PIM (403: no licence or no right; 400: PIM not onboarded). */
export async function nullWhenRefused<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (status === 403 || status === 400) return null;
    throw error;
  }
}

/**
 * The tenant context of the event path, read from ARM: assignments at the scope (atScope()),
 * PIM schedule instances at the scope and the principal's PIM requests, and custom role
 * definitions. Workloads of user-assigned identities need Resource Graph and are reported
 * unknown here.
 */
export class ArmTenantContext implements TenantContext {
  readonly #instances: Memo<PimInstanceRecord[] | null>;
  readonly #customRoles: Memo<RoleDefinition[]>;

  constructor(
    private readonly client: AuthorizationManagementClient,
    private readonly roleDefinitions: RoleDefinitions,
    options: { readonly scopeTtlMs: number; readonly roleTtlMs: number },
  ) {
    this.#instances = new Memo(options.scopeTtlMs);
    this.#customRoles = new Memo(options.roleTtlMs);
  }

  async scopeSummary(scope: string): Promise<ScopeSummary> {
    const target = normScope(scope);
    const instancesRead = this.#instancesAt(scope); // read beside the assignments, not after them
    const atScope: { roleDefinitionId: string; principalId: string; scope: string }[] = [];
    for await (const a of this.client.roleAssignments.listForScope(scope, { filter: "atScope()" })) {
      if (a.scope && a.roleDefinitionId && a.principalId && normScope(a.scope) === target) atScope.push({ roleDefinitionId: a.roleDefinitionId, principalId: a.principalId, scope: a.scope });
    }
    const instances = await instancesRead;
    const roles = await Promise.all([...new Set(atScope.map((a) => a.roleDefinitionId))].map(async (id) => [roleDefinitionGuid(id), await this.roleDefinitions.getById(id)] as const));
    const privileged = new Map(roles.map(([guid, role]) => [guid, role !== null && privilegeOf(role).privileged]));
    const owners = atScope.filter((a) => roleDefinitionGuid(a.roleDefinitionId) === OWNER_ROLE_GUID);
    // Requests never decide permanence (only an end date does), so none are read for the count.
    const permanentOwners = owners.filter((o) => pimStatusOf(o, instances, []).permanent !== false);
    return {
      assignments: atScope.length,
      owners: owners.length,
      permanentOwners: permanentOwners.length,
      privilegedAssignments: atScope.filter((a) => privileged.get(roleDefinitionGuid(a.roleDefinitionId))).length,
    };
  }

  async pimStatus(assignment: RoleAssignment): Promise<PimStatus> {
    // Instances and requests are read together (one round trip); the instance alone may settle it
    // (unreadable PIM, an activation, an end date), and then the requests are not consulted.
    const [instances, requests] = await Promise.all([this.#instancesAt(assignment.scope), this.#requestsFor(assignment)]);
    const fromInstances = pimStatusOf(assignment, instances, null);
    if (instances === null || fromInstances.viaPim === true) return fromInstances;
    return pimStatusOf(assignment, instances, requests);
  }

  async duplicateRoleNames(role: RoleDefinition, scope: string): Promise<readonly string[]> {
    if (role.roleType !== "CustomRole") return [];
    const listScope = roleListingScope(scope);
    const custom = await this.#customRoles.get(normScope(listScope), async () => {
      const found: RoleDefinition[] = [];
      for await (const d of this.client.roleDefinitions.list(listScope, { filter: "type eq 'CustomRole'" })) found.push(roleDefinitionFromSdk(d));
      return found;
    });
    const signature = permissionSignature(role);
    return custom.filter((d) => d.name.toLowerCase() !== role.name.toLowerCase() && permissionSignature(d) === signature).map((d) => d.roleName);
  }

  async workloads(principal: Principal | null): Promise<Workloads> {
    return systemAssignedWorkloads(principal) ?? { known: false, resourceIds: [], resourceGroups: [] };
  }

  // PIM schedule instances at a scope; null when PIM cannot be read there (no licence or no right).
  #instancesAt(scope: string): Promise<PimInstanceRecord[] | null> {
    return this.#instances.get(normScope(scope), () =>
      nullWhenRefused(async () => {
        const found: PimInstanceRecord[] = [];
        for await (const i of this.client.roleAssignmentScheduleInstances.listForScope(scope, { filter: "atScope()" })) {
          if (!i.principalId || !i.roleDefinitionId || !i.scope) continue;
          found.push({
            principalId: i.principalId,
            roleDefinitionId: i.roleDefinitionId,
            scope: i.scope,
            endDateTime: i.endDateTime?.toISOString() ?? null,
            assignmentType: i.assignmentType ?? null,
            memberType: i.memberType ?? null,
            linkedRoleEligibilityScheduleId: i.linkedRoleEligibilityScheduleId ?? null,
          });
        }
        return found;
      }),
    );
  }

  // The principal's PIM requests (at, above and below the scope, as the filter defines); null
  // when they cannot be read. Per event, so never memoised: a new request must be seen at once.
  #requestsFor(assignment: RoleAssignment): Promise<PimRequestRecord[] | null> {
    return nullWhenRefused(async () => {
      const found: PimRequestRecord[] = [];
      const filter = `principalId eq '${assignment.principalId.replace(/'/g, "''")}'`;
      for await (const r of this.client.roleAssignmentScheduleRequests.listForScope(assignment.scope, { filter })) {
        if (!r.principalId || !r.roleDefinitionId || !r.scope) continue;
        found.push({ principalId: r.principalId, roleDefinitionId: r.roleDefinitionId, scope: r.scope, requestType: r.requestType ?? null, status: r.status ?? null, createdOn: r.createdOn?.toISOString() ?? null });
      }
      return found;
    });
  }
}
