import type { AuthorizationManagementClient, RoleAssignment as SdkAssignment, RoleDefinition as SdkDefinition, RoleAssignmentScheduleInstance, RoleAssignmentScheduleRequest } from "@azure/arm-authorization";
import type { Principals } from "../facts/sources.js";
import { parseScope } from "../facts/scope.js";
import { parseTenantSnapshot, type TenantSnapshot } from "../model/snapshot.js";

export interface ExportSnapshotDependencies {
  readonly authorization: AuthorizationManagementClient;
  readonly principals: Principals;
  readonly tenantId: string;
}

/** What an export read, for the command line to report. */
export interface ExportSummary {
  readonly roleAssignments: number;
  readonly roleDefinitions: number;
  readonly principals: number;
  /** Principals that assignments name but Graph does not know (deleted identities). */
  readonly missingPrincipals: number;
  /** False when PIM (its instances or its requests) could not be read at some scope (the snapshot then says nothing about PIM). */
  readonly pimIncluded: boolean;
}

const iso = (d: Date | undefined) => d?.toISOString() ?? null;
const armGuid = (id: string) => (id.split("/").pop() ?? "").toLowerCase();

function assignmentToArm(a: SdkAssignment) {
  return {
    id: a.id,
    name: a.name,
    type: "Microsoft.Authorization/roleAssignments",
    properties: {
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: a.condition ?? null,
      conditionVersion: a.conditionVersion ?? null,
      description: a.description ?? null,
      createdOn: iso(a.createdOn),
      updatedOn: iso(a.updatedOn),
      createdBy: a.createdBy ?? null,
      updatedBy: a.updatedBy ?? null,
      delegatedManagedIdentityResourceId: a.delegatedManagedIdentityResourceId ?? null,
    },
  };
}

function definitionToArm(d: SdkDefinition) {
  const builtIn = d.roleType === "BuiltInRole";
  return {
    // The snapshot format keeps built-in roles at their tenant-level id.
    id: builtIn ? `/providers/Microsoft.Authorization/roleDefinitions/${d.name}` : d.id,
    name: d.name,
    type: "Microsoft.Authorization/roleDefinitions",
    properties: { roleName: d.roleName, type: d.roleType, description: d.description ?? null, permissions: d.permissions ?? [], assignableScopes: d.assignableScopes ?? [] },
  };
}

function instanceToArm(i: RoleAssignmentScheduleInstance) {
  return {
    id: i.id,
    name: i.name,
    type: "Microsoft.Authorization/roleAssignmentScheduleInstances",
    properties: {
      scope: i.scope,
      roleDefinitionId: i.roleDefinitionId,
      principalId: i.principalId,
      principalType: i.principalType,
      roleAssignmentScheduleId: i.roleAssignmentScheduleId,
      originRoleAssignmentId: i.originRoleAssignmentId,
      status: i.status,
      startDateTime: iso(i.startDateTime),
      endDateTime: iso(i.endDateTime),
      linkedRoleEligibilityScheduleId: i.linkedRoleEligibilityScheduleId ?? null,
      linkedRoleEligibilityScheduleInstanceId: i.linkedRoleEligibilityScheduleInstanceId ?? null,
      assignmentType: i.assignmentType,
      memberType: i.memberType,
      condition: i.condition ?? null,
      conditionVersion: i.conditionVersion ?? null,
      createdOn: iso(i.createdOn),
    },
  };
}

function requestToArm(r: RoleAssignmentScheduleRequest) {
  return {
    id: r.id,
    name: r.name,
    type: "Microsoft.Authorization/roleAssignmentScheduleRequests",
    properties: {
      scope: r.scope,
      roleDefinitionId: r.roleDefinitionId,
      principalId: r.principalId,
      principalType: r.principalType,
      requestType: r.requestType,
      status: r.status,
      targetRoleAssignmentScheduleId: r.targetRoleAssignmentScheduleId ?? null,
      targetRoleAssignmentScheduleInstanceId: r.targetRoleAssignmentScheduleInstanceId ?? null,
      linkedRoleEligibilityScheduleId: r.linkedRoleEligibilityScheduleId ?? null,
      justification: r.justification ?? null,
      condition: r.condition ?? null,
      conditionVersion: r.conditionVersion ?? null,
      createdOn: iso(r.createdOn),
      requestorId: r.requestorId ?? null,
    },
  };
}

/**
 * Reads a live tenant's access at the given scopes (at, above and below each) through the same
 * ARM and Graph adapters the functions use, and returns it as a validated tenant snapshot.
 */
export async function exportSnapshot(deps: ExportSnapshotDependencies, scopes: readonly string[]): Promise<{ snapshot: TenantSnapshot; summary: ExportSummary }> {
  const assignments = new Map<string, SdkAssignment>();
  const definitions = new Map<string, SdkDefinition>();
  const instances = new Map<string, RoleAssignmentScheduleInstance>();
  const requests = new Map<string, RoleAssignmentScheduleRequest>();
  let pimIncluded = true;
  for (const scope of scopes) {
    for await (const a of deps.authorization.roleAssignments.listForScope(scope)) if (a.id) assignments.set(a.id.toLowerCase(), a);
    for await (const d of deps.authorization.roleDefinitions.list(scope)) if (d.name) definitions.set(d.name.toLowerCase(), d);
    // Both or neither: without the requests, a direct assignment's mirror instance cannot be told
    // from a permanent assignment made in PIM.
    try {
      for await (const i of deps.authorization.roleAssignmentScheduleInstances.listForScope(scope)) if (i.id) instances.set(i.id.toLowerCase(), i);
      for await (const r of deps.authorization.roleAssignmentScheduleRequests.listForScope(scope)) if (r.id) requests.set(r.id.toLowerCase(), r);
    } catch (error) {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (status !== 403 && status !== 400) throw error;
      pimIncluded = false;
    }
  }
  // Assignments can name roles defined at a scope above the ones listed (custom roles elsewhere).
  for (const a of assignments.values()) {
    const guid = armGuid(a.roleDefinitionId ?? "");
    if (guid && !definitions.has(guid)) definitions.set(guid, await deps.authorization.roleDefinitions.getById(a.roleDefinitionId!));
  }
  const principalIds = [...new Set([...assignments.values()].flatMap((a) => [a.principalId, a.createdBy]).filter((id): id is string => typeof id === "string" && id !== ""))];
  const principals = await deps.principals.listByIds(principalIds);
  const known = new Set(principals.map((p) => p.id.toLowerCase()));
  const subscriptions = new Set<string>();
  const managementGroups = new Set<string>();
  for (const a of assignments.values()) {
    const scope = parseScope(a.scope ?? "/");
    if (scope.subscriptionId) subscriptions.add(scope.subscriptionId);
    if (scope.managementGroup) managementGroups.add(scope.managementGroup);
  }

  const snapshot = parseTenantSnapshot(
    {
      tenantId: deps.tenantId,
      managementGroups: [...managementGroups].map((name) => ({ id: `/providers/Microsoft.Management/managementGroups/${name}`, name })),
      subscriptions: [...subscriptions].map((id) => ({ id: `/subscriptions/${id}`, subscriptionId: id })),
      roleDefinitions: [...definitions.values()].map(definitionToArm),
      roleAssignments: [...assignments.values()].map(assignmentToArm),
      ...(pimIncluded ? { roleAssignmentScheduleInstances: [...instances.values()].map(instanceToArm), roleAssignmentScheduleRequests: [...requests.values()].map(requestToArm) } : {}),
      principals,
    },
    "exported snapshot",
  );
  const missingPrincipals = [...new Set([...assignments.values()].map((a) => a.principalId?.toLowerCase()).filter((id): id is string => !!id && !known.has(id)))].length;
  return {
    snapshot,
    summary: { roleAssignments: assignments.size, roleDefinitions: definitions.size, principals: principals.length, missingPrincipals, pimIncluded },
  };
}
