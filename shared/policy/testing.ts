import { FACT_CATALOGUE, FACT_VARIABLES, type FactSpec, type FactVariable } from "../facts/catalogue.js";
import type { Facts } from "../facts/build.js";
import { evaluatePolicies } from "./evaluate.js";
import type { Policy, PolicyTest } from "./policy.js";

// A policy's test cases describe an assignment by how it differs from a neutral one: a member
// user, enabled, holding Reader on a resource group, granted by a member, with no PIM data.

const SUB = "00000000-0000-4000-8000-000000000001";
const SCOPE = `/subscriptions/${SUB}/resourceGroups/rg-test`;

/** The neutral assignment every test case starts from (matches none of the built-in policies). */
export function baselineFacts(): Facts {
  return {
    assignment: {
      id: `${SCOPE}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-0000000000aa`,
      name: "00000000-0000-4000-8000-0000000000aa",
      roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
      principalId: "00000000-0000-4000-8000-0000000000bb",
      principalType: "User",
      condition: null,
      conditionVersion: null,
      hasCondition: false,
      description: "baseline test assignment",
      hasDescription: true,
      viaPim: null,
      permanent: null,
      pimAssignmentType: null,
      createdOn: "2026-11-01T00:00:00.000Z",
      createdBy: "00000000-0000-4000-8000-0000000000cc",
      ageDays: null,
    },
    scope: { id: SCOPE, level: "resourceGroup", managementGroup: null, subscriptionId: SUB, resourceGroup: "rg-test", resourceType: null },
    role: {
      id: "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
      guid: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
      name: "Reader",
      type: "BuiltInRole",
      builtIn: true,
      custom: false,
      actions: ["*/read"],
      notActions: [],
      dataActions: [],
      notDataActions: [],
      canWrite: false,
      canWriteRoleAssignments: false,
      canWriteRoleDefinitions: false,
      canElevateAccess: false,
      canWriteAnyResource: false,
      hasWildcardActions: false,
      hasWildcardDataActions: false,
      privileged: false,
      privilegedActions: [],
      duplicateOf: [],
    },
    principal: {
      id: "00000000-0000-4000-8000-0000000000bb",
      exists: true,
      kind: "user",
      displayName: "Test User",
      userPrincipalName: "test.user@contoso.com",
      guest: false,
      enabled: true,
      disabled: false,
      servicePrincipalType: null,
      managedIdentityType: null,
      appId: null,
      external: false,
      hasPasswordCredentials: false,
      workloadsKnown: false,
      workloadResources: [],
      workloadResourceGroups: [],
      lastSignIn: null,
      daysSinceSignIn: null,
      createdDaysAgo: null,
    },
    atScope: { assignments: 5n, owners: 0n, permanentOwners: 0n, ownerPercent: 0n, privilegedAssignments: 0n },
    grantedBy: { objectId: "00000000-0000-4000-8000-0000000000cc", upn: "admin@contoso.com", name: "Admin", appId: null, ipAddress: "203.0.113.1", identityType: "user", seenInBaseline: null },
    activity: { known: false, lookbackDays: 0n, operations: [], lastUsed: null, unusedPrivilegedActions: [], narrowestBuiltInRole: null },
  };
}

function conforms(spec: FactSpec, value: unknown): unknown {
  switch (spec.type) {
    case "string":
      if (typeof value === "string") return value;
      break;
    case "bool":
      if (typeof value === "boolean") return value;
      break;
    case "int":
      if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
      break;
    case "list<string>":
      if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
      break;
    case "dyn":
      if (value === null || typeof value === "string" || typeof value === "boolean") return value;
      // Nullable counts (days since…) are CEL ints when present.
      if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
      break;
  }
  throw new TypeError(`must be ${spec.type === "dyn" ? "a string, a bool, a whole number or null" : `a ${spec.type}`}, got ${JSON.stringify(value)}`);
}

/** The baseline with a test case's facts applied; throws a TypeError naming an unknown or mistyped fact. */
export function factsForTest(overrides: PolicyTest["facts"]): Facts {
  const facts = baselineFacts() as unknown as Record<FactVariable, Record<string, unknown>>;
  for (const [variable, fields] of Object.entries(overrides)) {
    if (!(FACT_VARIABLES as string[]).includes(variable)) throw new TypeError(`unknown fact variable '${variable}' (known: ${FACT_VARIABLES.join(", ")})`);
    const catalogue = FACT_CATALOGUE[variable as FactVariable] as Record<string, FactSpec>;
    for (const [field, value] of Object.entries(fields)) {
      const spec = catalogue[field];
      if (!spec) throw new TypeError(`unknown fact '${variable}.${field}'`);
      try {
        facts[variable as FactVariable][field] = conforms(spec, value);
      } catch (error) {
        throw new TypeError(`fact '${variable}.${field}' ${(error as Error).message}`, { cause: error });
      }
    }
  }
  return facts as unknown as Facts;
}

/** The result of one test case. */
export interface PolicyTestResult {
  readonly policyId: string;
  readonly file: string;
  readonly name: string;
  readonly expected: "match" | "no-match";
  readonly actual: "match" | "no-match" | "error";
  readonly passed: boolean;
  readonly detail: string;
}

/** Runs every test case of every policy. Pure: no I/O. */
export function runPolicyTests(policies: readonly Policy[]): PolicyTestResult[] {
  return policies.flatMap((policy) =>
    policy.tests.map((test): PolicyTestResult => {
      const subject = Object.keys(test.parameters).length ? policy.withParameters({ ...policy.parameters, ...test.parameters }) : policy;
      const evaluation = evaluatePolicies([subject], factsForTest(test.facts), subject.subject);
      const error = evaluation.errors[0];
      const actual = error ? "error" : evaluation.matches.length ? "match" : "no-match";
      const detail = error ? error.message : evaluation.matches[0] ? Object.entries(evaluation.matches[0].matchedFacts).map(([k, v]) => `${k} = ${JSON.stringify(v, (_, x) => (typeof x === "bigint" ? Number(x) : x))}`).join(", ") : "";
      return { policyId: policy.id, file: policy.file, name: test.name, expected: test.expect, actual, passed: actual === test.expect, detail };
    }),
  );
}
