import { describe, expect, it } from "vitest";
import { PolicyValidationError } from "../../../shared/errors.js";
import { buildFacts } from "../../../shared/facts/build.js";
import { evaluatePolicies, explainMatch } from "../../../shared/policy/evaluate.js";
import { parsePolicyFile } from "../../../shared/policy/load.js";
import type { Policy } from "../../../shared/policy/policy.js";

function policy(id: string, condition: string): Policy {
  const p = parsePolicyFile(`${id}.yaml`, `id: ${id}\ntitle: Policy ${id}\nseverity: low\naction: alert\ndescription: A description long enough for a reviewer.\ncondition: '${condition}'\n`);
  if (p instanceof PolicyValidationError) throw p;
  return p;
}

const facts = buildFacts({
  assignment: { id: "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a", name: "a", scope: "/subscriptions/s", roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/r", principalId: "p", principalType: "User", condition: null, conditionVersion: null, description: null, createdOn: null, updatedOn: null, createdBy: null, updatedBy: null, delegatedManagedIdentityResourceId: null },
  role: { id: "/providers/Microsoft.Authorization/roleDefinitions/r", name: "r", roleName: "Owner", roleType: "BuiltInRole", description: null, permissions: [{ actions: ["*"], notActions: [], dataActions: [], notDataActions: [] }], assignableScopes: ["/"] },
  principal: { "@odata.type": "#microsoft.graph.user", id: "p", displayName: "Pat", userPrincipalName: "pat_x.com#EXT#@c.onmicrosoft.com", userType: "Guest", accountEnabled: true, createdDateTime: null },
  grantedBy: null,
  tenantId: "t",
});

describe("evaluatePolicies", () => {
  it("returns each match with the values of the facts its condition read", () => {
    const { matches, errors } = evaluatePolicies([policy("pol-a", "principal.guest && scope.level == \"subscription\""), policy("pol-b", "principal.disabled")], facts);
    expect(errors).toEqual([]);
    expect(matches.map((m) => [m.policy.id, m.matchedFacts])).toEqual([["pol-a", { "principal.guest": true, "scope.level": "subscription" }]]);
    expect(explainMatch(matches[0]!)).toBe('Policy pol-a: principal.guest = true, scope.level = "subscription"');
  });

  it("records a condition that fails at run time and still evaluates the others", () => {
    const { matches, errors } = evaluatePolicies([policy("pol-broken", "assignment.condition.startsWith(\"x\")"), policy("pol-ok", "role.privileged")], facts);
    expect(errors).toEqual([{ policyId: "pol-broken", message: expect.any(String) }]);
    expect(matches.map((m) => m.policy.id)).toEqual(["pol-ok"]);
  });
});
