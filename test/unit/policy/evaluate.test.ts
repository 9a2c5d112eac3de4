import { describe, expect, it } from "vitest";
import { PolicyValidationError } from "../../../shared/errors.js";
import { factsForTest } from "../../../shared/policy/testing.js";
import { evaluatePolicies, explainMatch } from "../../../shared/policy/evaluate.js";
import { parsePolicyFile } from "../../../shared/policy/load.js";
import type { Policy } from "../../../shared/policy/policy.js";

function policy(id: string, condition: string): Policy {
  const p = parsePolicyFile(`${id}.yaml`, `id: ${id}\ntitle: Policy ${id}\nseverity: low\naction: alert\ndescription: A description long enough for a reviewer.\ncondition: '${condition}'\n`);
  if (p instanceof PolicyValidationError) throw p;
  return p;
}

const facts = factsForTest({
  principal: { kind: "guest", guest: true, displayName: "Pat", userPrincipalName: "pat_x.com#EXT#@c.onmicrosoft.com" },
  role: { name: "Owner", privileged: true },
  scope: { level: "subscription" },
  atScope: { owners: 4 },
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

  it("reads policy parameters and reports CEL ints as plain numbers", () => {
    const p = parsePolicyFile("p.yaml", "id: pol-owners\ntitle: Owners over a threshold\nseverity: low\naction: alert\ndescription: A description long enough for a reviewer.\nparameters: { maxOwners: 3 }\ncondition: atScope.owners > params.maxOwners\n");
    if (p instanceof PolicyValidationError) throw p;
    expect(evaluatePolicies([p], facts).matches[0]?.matchedFacts).toEqual({ "atScope.owners": 4 });
    expect(evaluatePolicies([p.withParameters({ maxOwners: 4 })], facts).matches).toEqual([]);
  });
});
