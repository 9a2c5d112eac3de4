import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildFacts, gatherContext, toCelContext } from "../../../shared/facts/build.js";
import { SnapshotContext } from "../../../shared/facts/snapshotContext.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid } from "../../../shared/model/access.js";
import { readTenantSnapshot } from "../../../shared/model/snapshot.js";
import { evaluatePolicies } from "../../../shared/policy/evaluate.js";
import { loadPolicyPack } from "../../../shared/policy/load.js";
import { baselineFacts, factsForTest, runPolicyTests } from "../../../shared/policy/testing.js";

// The built-in pack: its own test cases, its shape, and compiled conditions against the interpreter.

const pack = await loadPolicyPack(fileURLToPath(new URL("../../../policies", import.meta.url)));
const demo = await readTenantSnapshot(fileURLToPath(new URL("../../../local/demo/tenant.json", import.meta.url)));

describe("the built-in policy pack", () => {
  it.each(runPolicyTests(pack.policies).map((r) => [`${r.policyId} › ${r.name}`, r] as const))("%s", (_, result) => {
    expect({ actual: result.actual, detail: result.detail }).toEqual({ actual: result.expected, detail: expect.any(String) });
  });

  it("gives every policy references, a match case and a near-miss case, and alert as its default action", () => {
    for (const policy of pack.policies) {
      expect(policy.references.length, policy.id).toBeGreaterThan(0);
      expect(policy.action, policy.id).toBe("alert");
      expect(policy.tests.some((t) => t.expect === "match"), policy.id).toBe(true);
      expect(policy.tests.some((t) => t.expect === "no-match"), policy.id).toBe(true);
    }
  });

  it("matches nothing on the neutral baseline the test cases start from", () => {
    expect(evaluatePolicies(pack.policies, baselineFacts()).matches.map((m) => m.policy.id)).toEqual([]);
  });

  it("runs every condition as compiled JavaScript that agrees with the CEL interpreter on every demo assignment and test case", async () => {
    expect(pack.policies.filter((p) => !p.compiledToJs).map((p) => p.id)).toEqual([]);
    const context = new SnapshotContext(demo);
    const roles = new Map(demo.roleDefinitions.map((d) => [d.name.toLowerCase(), roleDefinitionFromArm(d)]));
    const principals = new Map(demo.principals.map((p) => [p.id.toLowerCase(), p]));
    const facts = await Promise.all(
      demo.roleAssignments.map(async (arm) => {
        const a = roleAssignmentFromArm(arm);
        const role = roles.get(roleDefinitionGuid(a.roleDefinitionId))!;
        const principal = principals.get(a.principalId.toLowerCase()) ?? null;
        return buildFacts({ assignment: a, role, principal, grantedBy: null, tenantId: demo.tenantId, context: await gatherContext(context, a, role, principal) });
      }),
    );
    facts.push(...pack.policies.flatMap((p) => p.tests.map((t) => factsForTest(t.facts))));
    let matches = 0;
    for (const f of facts) {
      const ctx: Record<string, object> = toCelContext(f);
      for (const policy of pack.policies) {
        ctx.params = policy.params;
        const compiled = policy.matches(ctx);
        expect(compiled, `${policy.id} on ${f.assignment.id}`).toBe(policy.matchesInterpreted(ctx));
        if (compiled) matches++;
      }
    }
    expect(matches).toBeGreaterThan(100);
  });
});
