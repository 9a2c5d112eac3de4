import type { Facts } from "../shared/facts/build.js";

// The starter policies written by hand in TypeScript: the speed floor for policy evaluation,
// and the oracle the CEL conditions must agree with on every assignment.

const UAA = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
const RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
const ADMIN_ROLES = new Set(["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c", UAA, RBAC_ADMIN]);

export const HAND_WRITTEN: Readonly<Record<string, (f: Facts) => boolean>> = {
  "access-admin-without-condition": (f) => (f.role.guid === UAA || f.role.guid === RBAC_ADMIN) && !f.assignment.hasCondition,
  "custom-role-delegates-access": (f) => f.role.custom && (f.role.canWriteRoleAssignments || f.role.canWriteRoleDefinitions),
  "deleted-principal": (f) => !f.principal.exists,
  "disabled-account-privileged-role": (f) => f.principal.disabled && f.role.privileged,
  "guest-privileged-role": (f) => f.principal.guest && f.role.privileged,
  "privileged-role-above-resource-group": (f) =>
    ADMIN_ROLES.has(f.role.guid) && (f.scope.level === "managementGroup" || f.scope.level === "subscription") && (f.principal.kind === "user" || f.principal.kind === "guest" || f.principal.kind === "group"),
  "root-scope-assignment": (f) => f.scope.level === "root",
  "workload-identity-privileged-broad-scope": (f) =>
    (f.principal.kind === "servicePrincipal" || f.principal.kind === "managedIdentity") && f.role.privileged && (f.scope.level === "root" || f.scope.level === "managementGroup" || f.scope.level === "subscription"),
};
