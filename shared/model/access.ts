import type { ArmRoleAssignment, ArmRoleDefinition, GraphDirectoryObject, Permission } from "./azure.js";

/** One role assignment, as grantguard reasons about it (flat; absent values are null). */
export interface RoleAssignment {
  readonly id: string;
  readonly name: string;
  readonly scope: string;
  readonly roleDefinitionId: string;
  readonly principalId: string;
  readonly principalType: string;
  readonly condition: string | null;
  readonly conditionVersion: string | null;
  readonly description: string | null;
  readonly createdOn: string | null;
  readonly updatedOn: string | null;
  readonly createdBy: string | null;
  readonly updatedBy: string | null;
  readonly delegatedManagedIdentityResourceId: string | null;
}

/** One role definition with its permissions. */
export interface RoleDefinition {
  readonly id: string;
  readonly name: string;
  readonly roleName: string;
  readonly roleType: string;
  readonly description: string | null;
  readonly permissions: readonly Permission[];
  readonly assignableScopes: readonly string[];
}

/** What stands for a role definition ARM no longer has (a deleted custom role): no permissions. */
export function deletedRoleDefinition(roleDefinitionId: string): RoleDefinition {
  return { id: roleDefinitionId, name: roleDefinitionId.split("/").pop() ?? "", roleName: "(deleted role definition)", roleType: "Unknown", description: null, permissions: [], assignableScopes: [] };
}

/** A directory object as Microsoft Graph v1.0 returns it; null when Graph answers 404 (deleted). */
export type Principal = GraphDirectoryObject;

/** Converts an ARM role assignment (REST shape) to the flat model. */
export function roleAssignmentFromArm(arm: ArmRoleAssignment): RoleAssignment {
  const p = arm.properties;
  return {
    id: arm.id,
    name: arm.name,
    scope: p.scope,
    roleDefinitionId: p.roleDefinitionId,
    principalId: p.principalId,
    principalType: p.principalType,
    condition: p.condition,
    conditionVersion: p.conditionVersion,
    description: p.description,
    createdOn: p.createdOn,
    updatedOn: p.updatedOn,
    createdBy: p.createdBy,
    updatedBy: p.updatedBy,
    delegatedManagedIdentityResourceId: p.delegatedManagedIdentityResourceId,
  };
}

/** Converts an ARM role definition (REST shape) to the flat model. */
export function roleDefinitionFromArm(arm: ArmRoleDefinition): RoleDefinition {
  const p = arm.properties;
  return {
    id: arm.id,
    name: arm.name,
    roleName: p.roleName,
    roleType: p.type,
    description: p.description,
    permissions: p.permissions,
    assignableScopes: p.assignableScopes,
  };
}

/** The GUID at the end of a role definition id, lower-cased: the same role whatever scope prefixes it. */
export function roleDefinitionGuid(roleDefinitionId: string): string {
  return (roleDefinitionId.split("/").pop() ?? roleDefinitionId).toLowerCase();
}
