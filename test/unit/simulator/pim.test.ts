import { describe, expect, it } from "vitest";
import { mirrorInstance, PimState, type PimObject } from "../../../local/simulator/pim.js";
import type { ArmRoleAssignment } from "../../../shared/model/azure.js";

// PIM's instances found by grant and by scope (not by scanning): an assignment's own instance is
// recognised whatever the spelling, inherited ones are not its own, and a delete takes only its.

const SUB = "/subscriptions/1b6e2c4a-8d3f-4a7b-9c1e-5f2d8a6b3c71";
const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

function assignment(name: string, principalId: string, scope = SUB): ArmRoleAssignment {
  return {
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    type: "Microsoft.Authorization/roleAssignments",
    properties: { roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${OWNER}`, principalId, principalType: "User", scope, condition: null, conditionVersion: null, description: null, createdOn: "2026-01-01T00:00:00Z", updatedOn: null, createdBy: null, updatedBy: null, delegatedManagedIdentityResourceId: null },
  };
}

const A = assignment("a", "0a6d3f1b-7c2e-4b59-8e1d-4f6a2b3c9d71");
const B = assignment("b", "5b9d1f3a-6c8e-4d2b-a7f1-3e5c7a9b1d24");
const C = assignment("c", "91d0a618-35e5-467d-a1cf-4fd394e081bc", `${SUB}/resourceGroups/rg`);

/** A's instance as another export spells it: upper-cased ids, the role at tenant level, a trailing slash. */
const spelledOtherwise: PimObject = (() => {
  const i = mirrorInstance(A);
  return { ...i, properties: { ...i.properties, principalId: A.properties.principalId.toUpperCase(), scope: `${SUB.toUpperCase()}/`, roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${OWNER.toUpperCase()}` } };
})();
/** B holds the role through a group too: that instance is the group's, not B's own. */
const inherited: PimObject = (() => {
  const i = mirrorInstance(B);
  return { ...i, id: `${i.id}-group`, name: "b-group", properties: { ...i.properties, memberType: "Group" } };
})();

const origins = (instances: readonly PimObject[]) => instances.map((i) => `${i.name}:${String(i.properties.memberType)}`);

describe("PIM's instances in the simulator", () => {
  it("takes a seeded instance as the assignment's own whatever its spelling, and mirrors only the assignments that have none of their own", () => {
    const pim = new PimState([spelledOtherwise, inherited], [], [A, B, C]);
    expect(origins(pim.instances)).toEqual(["a:Direct", "b-group:Group", "b:Direct", "c:Direct"]);
  });

  it("lists by scope in the collection's order, and a delete takes the assignment's own instance only", () => {
    const pim = new PimState([spelledOtherwise, inherited], [], [A, B, C]);
    expect(origins(pim.instanceIndex.gather([SUB.toLowerCase(), `${SUB.toLowerCase()}/`, `${SUB.toLowerCase()}/resourcegroups/rg`]))).toEqual(origins(pim.instances));
    pim.onDelete(B);
    pim.onDelete(A);
    expect(origins(pim.instances)).toEqual(["b-group:Group", "c:Direct"]);
    expect(origins(pim.instanceIndex.gather([SUB.toLowerCase(), `${SUB.toLowerCase()}/`]))).toEqual(["b-group:Group"]);
    // Granted again: a new mirror, after the others.
    pim.onWrite(A);
    expect(origins(pim.instances)).toEqual(["b-group:Group", "c:Direct", "a:Direct"]);
  });

  it("updates the mirror's condition on a rewrite instead of adding a second one", () => {
    const pim = new PimState([], [], [A]);
    pim.onWrite({ ...A, properties: { ...A.properties, condition: "@Resource[x] == 'y'", conditionVersion: "2.0" } });
    expect(pim.instances).toHaveLength(1);
    expect(pim.instances[0]!.properties.condition).toBe("@Resource[x] == 'y'");
  });
});
