import type { Facts } from "../shared/facts/build.js";

// The built-in pack written by hand in TypeScript, with its default parameters: the speed floor
// for policy evaluation, and an oracle the CEL conditions must agree with on every assignment.

const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const UAA = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
const RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
const ADMIN_ROLES = new Set([OWNER, CONTRIBUTOR, UAA, RBAC_ADMIN]);
const ABOVE_RG = (level: string) => level === "managementGroup" || level === "subscription";
const SUB_OR_ABOVE = (level: string) => level === "root" || level === "managementGroup" || level === "subscription";

export const HAND_WRITTEN: Readonly<Record<string, (f: Facts) => boolean>> = {
  "access-admin-without-condition": (f) => (f.role.guid === UAA || f.role.guid === RBAC_ADMIN) && !f.assignment.hasCondition,
  "blocked-account-write-permissions": (f) => f.principal.disabled && (f.role.privileged || f.role.canWrite),
  "custom-role-delegates-access": (f) => f.role.custom && (f.role.canWriteRoleAssignments || f.role.canWriteRoleDefinitions),
  "custom-role-wildcard-actions": (f) => f.role.custom && f.role.hasWildcardActions,
  "data-plane-wildcard": (f) => f.role.hasWildcardDataActions,
  "delegation-without-description-or-condition": (f) => f.role.canWriteRoleAssignments && !f.assignment.hasCondition && !f.assignment.hasDescription,
  "deleted-principal": (f) => !f.principal.exists,
  "external-principal-privileged-role": (f) => f.principal.external && !f.principal.guest && f.role.privileged,
  "guest-privileged-role": (f) => f.principal.guest && f.role.privileged,
  "guest-read-permissions": (f) => f.principal.guest && !f.role.canWrite,
  "guest-write-permissions": (f) => f.principal.guest && f.role.canWrite && !f.role.privileged,
  "pim-assigned-outside-pim": (f) => f.role.privileged && f.assignment.viaPim === false,
  "pim-duplicate-custom-role": (f) => f.role.custom && f.role.duplicateOf.length > 0,
  "pim-too-many-owners": (f) => f.role.guid === OWNER && f.atScope.owners > 3n && f.atScope.ownerPercent > 10n,
  "pim-too-many-permanent-owners": (f) => f.role.guid === OWNER && f.assignment.permanent === true && f.atScope.permanentOwners > 2n && f.atScope.permanentOwners * 100n > 10n * f.atScope.assignments,
  "privileged-role-above-resource-group": (f) => ADMIN_ROLES.has(f.role.guid) && ABOVE_RG(f.scope.level),
  "privileged-role-direct-to-user": (f) => (f.principal.kind === "user" || f.principal.kind === "guest") && f.role.privileged,
  "role-can-delegate-or-elevate": (f) => f.role.canWriteRoleAssignments || f.role.canWriteRoleDefinitions || f.role.canElevateAccess,
  "root-scope-assignment": (f) => f.scope.level === "root",
  "service-principal-secret-privileged": (f) => f.principal.kind === "servicePrincipal" && !f.principal.external && f.principal.hasPasswordCredentials && f.role.privileged,
  "shared-user-assigned-identity-broad-rights": (f) => f.principal.managedIdentityType === "userAssigned" && f.principal.workloadResourceGroups.length > 1 && f.role.privileged,
  "subscription-fewer-than-2-owners": (f) => f.scope.level === "subscription" && f.role.guid === OWNER && f.atScope.owners < 2n,
  "subscription-more-than-3-owners": (f) => f.scope.level === "subscription" && f.role.guid === OWNER && f.atScope.owners > 3n,
  // The sweep's policies: their facts are null outside a sweep (never true in this what-if).
  "inactive-identity": (f) =>
    ["user", "guest", "servicePrincipal", "managedIdentity"].includes(f.principal.kind) &&
    f.principal.daysSinceSignIn !== null &&
    (f.principal.daysSinceSignIn as bigint) >= 90n &&
    (f.principal.createdDaysAgo !== null ? (f.principal.createdDaysAgo as bigint) >= 90n : f.assignment.ageDays !== null && (f.assignment.ageDays as bigint) >= 90n),
  "management-group-privileged-grant": (f) => f.scope.level === "managementGroup" && f.role.privileged,
  "overprovisioned-role": (f) =>
    f.role.privileged && f.activity.known && f.activity.lookbackDays >= 90n && f.assignment.ageDays !== null && (f.assignment.ageDays as bigint) >= 90n && f.activity.unusedPrivilegedActions.length > 0 && f.activity.narrowestBuiltInRole !== f.role.name,
  "unusual-granter": (f) => f.grantedBy.seenInBaseline === false,
  "workload-identity-privileged-broad-scope": (f) =>
    (f.principal.kind === "servicePrincipal" || f.principal.kind === "managedIdentity") && f.role.privileged && SUB_OR_ABOVE(f.scope.level) && f.principal.workloadResourceGroups.length <= 1,
};
