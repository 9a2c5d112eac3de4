import { Engine, type RuleProperties, type TopLevelCondition } from "json-rules-engine";
import type { Facts } from "../shared/facts/build.js";

// The same rules for json-rules-engine, the library many teams reach for: conditions are
// JSON, facts are plain objects read by JSONPath, and what JSON cannot say is a custom operator.

const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const ADMIN_ROLES = [OWNER, "b24988ac-6180-42a0-ab88-20f7382dd24c", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"];
const ACCESS_ADMINS = ["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"];

const is = (fact: string, path: string, value: unknown) => ({ fact, path: `$.${path}`, operator: "equal", value });
const isIn = (fact: string, path: string, value: unknown[]) => ({ fact, path: `$.${path}`, operator: "in", value });
const gt = (fact: string, path: string, value: number) => ({ fact, path: `$.${path}`, operator: "greaterThan", value });
const lt = (fact: string, path: string, value: number) => ({ fact, path: `$.${path}`, operator: "lessThan", value });

const RULES: Record<string, TopLevelCondition> = {
  "access-admin-without-condition": { all: [isIn("role", "guid", ACCESS_ADMINS), is("assignment", "hasCondition", false)] },
  "blocked-account-write-permissions": { all: [is("principal", "disabled", true), { any: [is("role", "privileged", true), is("role", "canWrite", true)] }] },
  "custom-role-delegates-access": { all: [is("role", "custom", true), { any: [is("role", "canWriteRoleAssignments", true), is("role", "canWriteRoleDefinitions", true)] }] },
  "custom-role-wildcard-actions": { all: [is("role", "custom", true), is("role", "hasWildcardActions", true)] },
  "data-plane-wildcard": { all: [is("role", "hasWildcardDataActions", true)] },
  "delegation-without-description-or-condition": { all: [is("role", "canWriteRoleAssignments", true), is("assignment", "hasCondition", false), is("assignment", "hasDescription", false)] },
  "deleted-principal": { all: [is("principal", "exists", false)] },
  "external-principal-privileged-role": { all: [is("principal", "external", true), is("principal", "guest", false), is("role", "privileged", true)] },
  "guest-privileged-role": { all: [is("principal", "guest", true), is("role", "privileged", true)] },
  "guest-read-permissions": { all: [is("principal", "guest", true), is("role", "canWrite", false)] },
  "guest-write-permissions": { all: [is("principal", "guest", true), is("role", "canWrite", true), is("role", "privileged", false)] },
  "pim-assigned-outside-pim": { all: [is("role", "privileged", true), is("assignment", "viaPim", false)] },
  "pim-duplicate-custom-role": { all: [is("role", "custom", true), { fact: "role", path: "$.duplicateOf", operator: "sizeGreaterThan", value: 0 }] },
  "pim-too-many-owners": { all: [is("role", "guid", OWNER), gt("atScope", "owners", 3), gt("atScope", "ownerPercent", 10)] },
  "pim-too-many-permanent-owners": { all: [is("role", "guid", OWNER), is("assignment", "permanent", true), gt("atScope", "permanentOwners", 2), { fact: "atScope", operator: "permanentOwnerShareAbove", value: 10 }] },
  "privileged-role-above-resource-group": { all: [isIn("role", "guid", ADMIN_ROLES), isIn("scope", "level", ["managementGroup", "subscription"])] },
  "privileged-role-direct-to-user": { all: [isIn("principal", "kind", ["user", "guest"]), is("role", "privileged", true)] },
  "role-can-delegate-or-elevate": { any: [is("role", "canWriteRoleAssignments", true), is("role", "canWriteRoleDefinitions", true), is("role", "canElevateAccess", true)] },
  "root-scope-assignment": { all: [is("scope", "level", "root")] },
  "service-principal-secret-privileged": { all: [is("principal", "kind", "servicePrincipal"), is("principal", "external", false), is("principal", "hasPasswordCredentials", true), is("role", "privileged", true)] },
  "shared-user-assigned-identity-broad-rights": { all: [is("principal", "managedIdentityType", "userAssigned"), { fact: "principal", path: "$.workloadResourceGroups", operator: "sizeGreaterThan", value: 1 }, is("role", "privileged", true)] },
  "subscription-fewer-than-2-owners": { all: [is("scope", "level", "subscription"), is("role", "guid", OWNER), lt("atScope", "owners", 2)] },
  "subscription-more-than-3-owners": { all: [is("scope", "level", "subscription"), is("role", "guid", OWNER), gt("atScope", "owners", 3)] },
  // The sweep's policies (null facts outside a sweep, as in the what-if these engines run on).
  "inactive-identity": {
    all: [
      isIn("principal", "kind", ["user", "guest", "servicePrincipal", "managedIdentity"]),
      { fact: "principal", path: "$.daysSinceSignIn", operator: "atLeast", value: 90 },
      { any: [{ fact: "principal", path: "$.createdDaysAgo", operator: "atLeast", value: 90 }, { all: [is("principal", "createdDaysAgo", null), { fact: "assignment", path: "$.ageDays", operator: "atLeast", value: 90 }] }] },
    ],
  },
  "management-group-privileged-grant": { all: [is("scope", "level", "managementGroup"), is("role", "privileged", true)] },
  "overprovisioned-role": { all: [is("role", "privileged", true), is("activity", "known", true), { fact: "assignment", path: "$.ageDays", operator: "atLeast", value: 90 }, { fact: "all", operator: "overprovisionedFor", value: 90 }] },
  "unusual-granter": { all: [is("grantedBy", "seenInBaseline", false)] },
  "workload-identity-privileged-broad-scope": {
    all: [isIn("principal", "kind", ["servicePrincipal", "managedIdentity"]), is("role", "privileged", true), isIn("scope", "level", ["root", "managementGroup", "subscription"]), { fact: "principal", path: "$.workloadResourceGroups", operator: "sizeAtMost", value: 1 }],
  },
};

/** An engine holding the rules; `run` answers the ids of the rules that match one assignment. */
export function createJsonRulesEngine(): { policyIds: string[]; run(facts: Facts): Promise<string[]> } {
  const engine = new Engine([], { allowUndefinedFacts: false });
  engine.addOperator("sizeGreaterThan", (value: unknown, size: number) => Array.isArray(value) && value.length > size);
  engine.addOperator("sizeAtMost", (value: unknown, size: number) => Array.isArray(value) && value.length <= size);
  engine.addOperator("atLeast", (value: unknown, min: number) => value !== null && value !== undefined && Number(value) >= min);
  engine.addOperator("overprovisionedFor", (f: Facts, days: number) => Number(f.activity.lookbackDays) >= days && f.activity.unusedPrivilegedActions.length > 0 && f.activity.narrowestBuiltInRole !== f.role.name);
  engine.addOperator("permanentOwnerShareAbove", (value: { permanentOwners: number; assignments: number }, percent: number) => value.permanentOwners * 100 > percent * value.assignments);
  for (const [id, conditions] of Object.entries(RULES)) engine.addRule({ name: id, conditions, event: { type: id } } as RuleProperties);
  return {
    policyIds: Object.keys(RULES),
    async run(facts) {
      // JSONPath needs plain values: CEL ints become numbers.
      const atScope = Object.fromEntries(Object.entries(facts.atScope).map(([k, v]) => [k, Number(v)]));
      // "all": the whole facts, for the rule that compares two of them.
      const { events } = await engine.run({ ...facts, atScope, all: facts });
      return events.map((e) => e.type);
    },
  };
}
