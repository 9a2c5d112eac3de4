import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readTenantSnapshot, type TenantSnapshot } from "../../shared/model/snapshot.js";
import { evaluateSnapshot } from "../../shared/usecases/evaluateSnapshot.js";
import type { ResourceEvent } from "../../local/simulator/server.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// A tenant as ARM really shows it: a PIM schedule instance for every active assignment, a mirror
// for each one made directly. grantguard must still tell direct grants from PIM-made ones, the
// same way on the event path and in the snapshot what-if, and enforce only on the direct ones.

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const RG = `${SUB}/resourceGroups/rg-app`;
const OWNER = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`;
const GUEST = "bbbbbbbb-0000-4000-8000-000000000002";
const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const PACK = `${fileURLToPath(new URL("../../policies", import.meta.url))},${fileURLToPath(new URL("../../local/demo/revoke-pack", import.meta.url))}`;

let azure: TestAzure;
const events: ResourceEvent[] = [];
beforeAll(async () => {
  azure = await startTestAzure();
  azure.local.simulator.onResourceEvent((e) => events.push(e));
});
afterAll(async () => {
  await azure?.stop();
});
beforeEach(async () => {
  azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
  events.length = 0;
});

const eventFor = (assignmentId: string) => events.find((e) => e.subject.toLowerCase() === assignmentId.toLowerCase() && e.eventType.endsWith("WriteSuccess"))!;

/** The simulator's current tenant as a snapshot, exactly as `grantguard snapshot export` would write it. */
function snapshotOf(state: TestAzure["local"]["simulator"]["state"], base: TenantSnapshot): TenantSnapshot {
  return { ...base, roleAssignments: [...state.assignments.values()], roleAssignmentScheduleInstances: [...state.pim!.instances], roleAssignmentScheduleRequests: [...state.pim!.requests!] };
}

describe("PIM with ARM's mirror instances", () => {
  it("in enforce mode revokes a guest's direct Owner grant and only alerts on one PIM made, on the event path and in the what-if alike", async () => {
    const simulator = azure.local.simulator;
    // Two guests' Owner grants on other resources: one direct, one a permanent active assignment made in PIM.
    const direct = simulator.grant({ scope: `${RG}/providers/Microsoft.Web/sites/direct`, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" }, ADA);
    const viaPim = simulator.pimGrant({ scope: `${RG}/providers/Microsoft.Web/sites/viapim`, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" }, { requestType: "AdminAssign", endDateTime: null }, ADA);
    // ARM lists an instance for both: neither one alone says who made it.
    const instances = simulator.state.pim!.instances.filter((i) => [direct.id, viaPim.id].includes(String(i.properties.originRoleAssignmentId)));
    expect(instances.map((i) => [i.properties.assignmentType, i.properties.memberType, i.properties.endDateTime])).toEqual([
      ["Assigned", "Direct", null],
      ["Assigned", "Direct", null],
    ]);

    const runtime = await azure.runtime({ GRANTGUARD_POLICIES_DIR: PACK, GRANTGUARD_MODE: "enforce" });
    const directOutcome = await runtime.judgeGrantEvent(eventFor(direct.id));
    const pimOutcome = await runtime.judgeGrantEvent(eventFor(viaPim.id));
    if (directOutcome.status !== "judged" || pimOutcome.status !== "judged") throw new Error("both grants must be judged");

    expect(directOutcome.facts.assignment).toMatchObject({ viaPim: false, permanent: true, pimAssignmentType: null });
    expect(directOutcome.open.map((f) => f.policyId)).toContain("pim-assigned-outside-pim");
    expect(directOutcome.revocation?.status).toBe("deleted");
    expect(simulator.state.assignments.has(direct.id.toLowerCase())).toBe(false);

    expect(pimOutcome.facts.assignment).toMatchObject({ viaPim: true, permanent: true, pimAssignmentType: "Assigned" });
    expect(pimOutcome.open.map((f) => f.policyId)).toContain("demo-revoke-guest-privileged");
    expect(pimOutcome.open.map((f) => f.policyId)).not.toContain("pim-assigned-outside-pim");
    expect(pimOutcome.revocation?.status).not.toBe("deleted");
    expect(simulator.state.assignments.has(viaPim.id.toLowerCase())).toBe(true);

    // The what-if over the same tenant (before the revocation) reaches the same PIM verdicts.
    const before = snapshotOf(simulator.state, await readTenantSnapshot(fixture("tenants/small.json")));
    before.roleAssignments.push(direct);
    before.roleAssignmentScheduleInstances!.push(...instances.filter((i) => i.properties.originRoleAssignmentId === direct.id));
    const whatIf = await evaluateSnapshot(before, runtime.pack, { now: new Date() });
    const policiesOf = (id: string) => whatIf.findings.filter((f) => f.assignmentId === id).map((f) => f.policyId).sort();
    expect(policiesOf(direct.id)).toEqual(directOutcome.open.map((f) => f.policyId).sort());
    expect(policiesOf(viaPim.id)).toEqual(pimOutcome.open.map((f) => f.policyId).sort());
  });

  it("counts an activated, time-bound Owner as neither permanent nor outside PIM, and the direct Owners beside it as permanent", async () => {
    const simulator = azure.local.simulator;
    const permanent = [ADA, "cccccccc-0000-4000-8000-000000000003"].map((principalId) => simulator.grant({ scope: SUB, roleDefinitionId: OWNER, principalId, principalType: "User" }, ADA));
    const activated = simulator.pimGrant(
      { scope: SUB, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" },
      { requestType: "SelfActivate", endDateTime: new Date(Date.now() + 8 * 3600_000).toISOString(), linkedRoleEligibilityScheduleId: `${SUB}/providers/Microsoft.Authorization/roleEligibilitySchedules/e1e1e1e1-0000-4000-8000-000000000001` },
      GUEST,
    );
    const runtime = await azure.runtime();
    const outcome = await runtime.judgeGrantEvent(eventFor(activated.id));
    const owner = await runtime.judgeGrantEvent(eventFor(permanent[0]!.id));
    if (outcome.status !== "judged" || owner.status !== "judged") throw new Error("judged");
    expect(outcome.facts.assignment).toMatchObject({ viaPim: true, permanent: false, pimAssignmentType: "Activated" });
    expect(outcome.facts.atScope).toMatchObject({ owners: 3n, permanentOwners: 2n });
    expect(owner.facts.assignment).toMatchObject({ viaPim: false, permanent: true });
  });

  it("says nothing about PIM (null) when the instances can be read but PIM's requests cannot, and then does not revoke", async () => {
    const simulator = azure.local.simulator;
    const direct = simulator.grant({ scope: `${RG}/providers/Microsoft.Web/sites/direct`, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" }, ADA);
    simulator.faults.add({ route: "arm.roleAssignmentScheduleRequests.list", status: 403 });
    const runtime = await azure.runtime({ GRANTGUARD_POLICIES_DIR: PACK, GRANTGUARD_MODE: "enforce" });
    const outcome = await runtime.judgeGrantEvent(eventFor(direct.id));
    if (outcome.status !== "judged") throw new Error("judged");
    // A mirror and a permanent PIM assignment look the same without the requests: fail closed.
    expect(outcome.facts.assignment).toMatchObject({ viaPim: null, permanent: true });
    expect(outcome.revocation?.status).not.toBe("deleted");
    expect(simulator.state.assignments.has(direct.id.toLowerCase())).toBe(true);
  });
});
