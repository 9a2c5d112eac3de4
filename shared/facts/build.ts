import { FACT_CATALOGUE, FACT_VARIABLES, type FactType, type FactVariable } from "./catalogue.js";
import { parseScope } from "./scope.js";
import { rolePrivilege, type RolePrivilege } from "./privilege.js";
import { roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../model/access.js";
import type { GrantedBy } from "../model/event.js";
import type { PimStatus, ScopeSummary, TenantContext, Workloads } from "./context.js";

type Catalogue = typeof FACT_CATALOGUE;
type ValueOf<T extends FactType> = T extends "string" ? string : T extends "bool" ? boolean : T extends "int" ? bigint : T extends "list<string>" ? readonly string[] : string | boolean | bigint | null;

/** The facts of one variable, typed from the catalogue so builder and documentation cannot drift. */
export type FactsOf<V extends FactVariable> = { readonly [K in keyof Catalogue[V]]: Catalogue[V][K] extends { type: infer T extends FactType } ? ValueOf<T> : never };

/** Everything a condition sees about one assignment. */
export type Facts = { readonly [V in FactVariable]: FactsOf<V> };

/** One class per variable, so the CEL environment can type-check conditions against the catalogue. */
export const FACT_CLASSES = Object.fromEntries(
  FACT_VARIABLES.map((variable) => {
    const cls = class {
      constructor(init: object) {
        Object.assign(this, init);
      }
    };
    Object.defineProperty(cls, "name", { value: celTypeName(variable) });
    return [variable, cls];
  }),
) as Record<FactVariable, new (init: object) => object>;

/** The CEL type name of a fact variable (assignment → Assignment). */
export function celTypeName(variable: FactVariable): string {
  return variable[0]!.toUpperCase() + variable.slice(1);
}

/** What the tenant context says about one assignment. */
export interface ContextFacts {
  readonly scopeSummary: ScopeSummary;
  readonly pim: PimStatus;
  readonly duplicateRoleNames: readonly string[];
  readonly workloads: Workloads;
}

/** Asks the tenant context every question the facts need, in parallel. */
export async function gatherContext(context: TenantContext, assignment: RoleAssignment, role: RoleDefinition | Promise<RoleDefinition>, principal: Principal | null | Promise<Principal | null>): Promise<ContextFacts> {
  // Role and principal may still be on their way: what needs only the assignment does not wait for them.
  const [scopeSummary, pim, duplicateRoleNames, workloads] = await Promise.all([
    context.scopeSummary(assignment.scope),
    context.pimStatus(assignment),
    role instanceof Promise ? role.then((r) => context.duplicateRoleNames(r, assignment.scope)) : context.duplicateRoleNames(role, assignment.scope),
    principal instanceof Promise ? principal.then((p) => context.workloads(p)) : context.workloads(principal),
  ]);
  return { scopeSummary, pim, duplicateRoleNames, workloads };
}

/** What the facts builder needs about one assignment. */
export interface FactInputs {
  readonly assignment: RoleAssignment;
  readonly role: RoleDefinition;
  /** null when Microsoft Graph does not know the principal (deleted identity). */
  readonly principal: Principal | null;
  readonly grantedBy: GrantedBy | null;
  /** The tenant being governed, to tell external principals from our own. */
  readonly tenantId: string | null;
  readonly context: ContextFacts;
  /** What a tenant sweep knows from the logs and its clock; absent (all null) on the event path and in the what-if. */
  readonly sweep?: SweepFacts | null;
}

/** The facts only a tenant sweep can know: from the sign-in and activity logs, and the sweep's own time. */
export interface SweepFacts {
  readonly assignment: Pick<FactsOf<"assignment">, "ageDays">;
  readonly principal: Pick<FactsOf<"principal">, "lastSignIn" | "daysSinceSignIn" | "createdDaysAgo">;
  readonly grantedBy: Pick<FactsOf<"grantedBy">, "seenInBaseline"> & { readonly ipAddress: string | null };
  readonly activity: FactsOf<"activity">;
}

/** The sweep facts where nothing is known: the event path and the what-if. */
export const UNKNOWN_SWEEP_FACTS: SweepFacts = {
  assignment: { ageDays: null },
  principal: { lastSignIn: null, daysSinceSignIn: null, createdDaysAgo: null },
  grantedBy: { seenInBaseline: null, ipAddress: null },
  activity: { known: false, lookbackDays: 0n, operations: [], lastUsed: null, unusedPrivilegedActions: [], narrowestBuiltInRole: null },
};

const privilegeCache = new WeakMap<RoleDefinition, RolePrivilege>();

/** Computes (and caches per role definition object) what a role can do. */
export function privilegeOf(role: RoleDefinition): RolePrivilege {
  let privilege = privilegeCache.get(role);
  if (!privilege) {
    privilege = rolePrivilege(role.permissions);
    privilegeCache.set(role, privilege);
  }
  return privilege;
}

/** Builds the plain facts about one assignment; absent values are null, never missing. */
export function buildFacts(inputs: FactInputs): Facts {
  const { assignment: a, role, principal, grantedBy, tenantId, context } = inputs;
  const sweep = inputs.sweep ?? UNKNOWN_SWEEP_FACTS;
  const summary = context.scopeSummary;
  const scope = parseScope(a.scope);
  const privilege = privilegeOf(role);
  const flat = (key: "actions" | "notActions" | "dataActions" | "notDataActions") => role.permissions.flatMap((p) => p[key]);
  return {
    assignment: {
      id: a.id,
      name: a.name,
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      condition: a.condition,
      conditionVersion: a.conditionVersion,
      hasCondition: a.condition !== null && a.condition.trim() !== "",
      description: a.description,
      hasDescription: a.description !== null && a.description.trim() !== "",
      viaPim: context.pim.viaPim,
      permanent: context.pim.permanent,
      pimAssignmentType: context.pim.assignmentType,
      createdOn: a.createdOn,
      createdBy: a.createdBy,
      ageDays: sweep.assignment.ageDays,
    },
    scope: {
      id: scope.id,
      level: scope.level,
      managementGroup: scope.managementGroup,
      subscriptionId: scope.subscriptionId,
      resourceGroup: scope.resourceGroup,
      resourceType: scope.resourceType,
    },
    role: {
      id: role.id,
      guid: roleDefinitionGuid(role.id),
      name: role.roleName,
      type: role.roleType,
      builtIn: role.roleType === "BuiltInRole",
      custom: role.roleType === "CustomRole",
      actions: flat("actions"),
      notActions: flat("notActions"),
      dataActions: flat("dataActions"),
      notDataActions: flat("notDataActions"),
      canWrite: privilege.canWrite,
      canWriteRoleAssignments: privilege.canWriteRoleAssignments,
      canWriteRoleDefinitions: privilege.canWriteRoleDefinitions,
      canElevateAccess: privilege.canElevateAccess,
      canWriteAnyResource: privilege.canWriteAnyResource,
      hasWildcardActions: privilege.hasWildcardActions,
      hasWildcardDataActions: privilege.hasWildcardDataActions,
      privileged: privilege.privileged,
      privilegedActions: privilege.privilegedActions,
      duplicateOf: context.duplicateRoleNames,
    },
    principal: { ...principalFacts(a, principal, tenantId, context.workloads), ...sweep.principal },
    atScope: {
      assignments: BigInt(summary.assignments),
      owners: BigInt(summary.owners),
      permanentOwners: BigInt(summary.permanentOwners),
      ownerPercent: BigInt(summary.assignments === 0 ? 0 : Math.round((100 * summary.owners) / summary.assignments)),
      privilegedAssignments: BigInt(summary.privilegedAssignments),
    },
    grantedBy: {
      objectId: grantedBy?.objectId ?? null,
      upn: grantedBy?.upn ?? null,
      name: grantedBy?.name ?? null,
      appId: grantedBy?.appId ?? null,
      ipAddress: grantedBy?.ipAddress ?? sweep.grantedBy.ipAddress,
      identityType: grantedBy?.identityType ?? null,
      seenInBaseline: sweep.grantedBy.seenInBaseline,
    },
    activity: sweep.activity,
  };
}

/** True when ARM says the principal is a ForeignGroup: a group of another directory, which this tenant's Graph cannot read. */
export function isForeignGroup(principalType: string): boolean {
  return principalType.toLowerCase() === "foreigngroup";
}

type LogPrincipalFacts = "lastSignIn" | "daysSinceSignIn" | "createdDaysAgo";

function principalFacts(a: RoleAssignment, principal: Principal | null, tenantId: string | null, workloads: Workloads): Omit<FactsOf<"principal">, LogPrincipalFacts> {
  const base = {
    workloadsKnown: workloads.known,
    workloadResources: workloads.resourceIds,
    workloadResourceGroups: workloads.resourceGroups,
    id: a.principalId,
    exists: principal !== null,
    displayName: principal?.displayName ?? null,
    userPrincipalName: null,
    guest: false,
    enabled: null,
    disabled: false,
    servicePrincipalType: null,
    managedIdentityType: null,
    appId: null,
    external: false,
    hasPasswordCredentials: false,
  };
  // Not an object of this directory: grantguard never asks Graph about it, so it is neither known
  // nor "deleted"; ARM holds the assignment, and the group belongs to someone else.
  if (isForeignGroup(a.principalType)) return { ...base, exists: true, kind: "foreignGroup", external: true };
  if (principal === null) return { ...base, kind: "unknown" };
  switch (principal["@odata.type"]) {
    case "#microsoft.graph.user": {
      const upn = principal.userPrincipalName;
      // Guest is what Graph says (userType), never guessed from the UPN: an external *member*
      // carries #EXT# too. That marker still says the account comes from another directory.
      const guest = principal.userType?.toLowerCase() === "guest";
      return {
        ...base,
        kind: guest ? "guest" : "user",
        userPrincipalName: upn,
        guest,
        external: guest || (upn?.includes("#EXT#") ?? false),
        enabled: principal.accountEnabled,
        disabled: principal.accountEnabled === false,
      };
    }
    case "#microsoft.graph.group":
      return { ...base, kind: "group" };
    case "#microsoft.graph.servicePrincipal": {
      const managed = principal.servicePrincipalType === "ManagedIdentity";
      const explicit = principal.alternativeNames.some((n) => n.toLowerCase() === "isexplicit=true");
      const owner = principal.appOwnerOrganizationId;
      return {
        ...base,
        kind: managed ? "managedIdentity" : "servicePrincipal",
        servicePrincipalType: principal.servicePrincipalType,
        managedIdentityType: managed ? (explicit ? "userAssigned" : "systemAssigned") : null,
        appId: principal.appId,
        enabled: principal.accountEnabled,
        disabled: principal.accountEnabled === false,
        external: !managed && owner !== null && tenantId !== null && owner.toLowerCase() !== tenantId.toLowerCase(),
        hasPasswordCredentials: principal.passwordCredentials.length > 0,
      };
    }
  }
}

/** Wraps plain facts in the typed classes the CEL environment expects. */
export function toCelContext(facts: Facts): Record<FactVariable, object> {
  return {
    assignment: new FACT_CLASSES.assignment(facts.assignment),
    scope: new FACT_CLASSES.scope(facts.scope),
    role: new FACT_CLASSES.role(facts.role),
    principal: new FACT_CLASSES.principal(facts.principal),
    atScope: new FACT_CLASSES.atScope(facts.atScope),
    grantedBy: new FACT_CLASSES.grantedBy(facts.grantedBy),
    activity: new FACT_CLASSES.activity(facts.activity),
  };
}
