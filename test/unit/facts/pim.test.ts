import { describe, expect, it } from "vitest";
import { SnapshotContext } from "../../../shared/facts/snapshotContext.js";
import { pimStatusOf, type PimInstanceRecord, type PimRequestRecord } from "../../../shared/facts/pim.js";
import { roleAssignmentFromArm } from "../../../shared/model/access.js";
import { readTenantSnapshot, type TenantSnapshot } from "../../../shared/model/snapshot.js";
import { fixture } from "../../support/testAzure.js";

// Which assignments PIM made, when ARM lists an instance for every active assignment.

const snapshot = await readTenantSnapshot(fixture("tenants/small.json"));
const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const GUEST_OWNER = "a0000001-0000-4000-8000-000000000001"; // Owner at rg-app, mirrored in the fixture
const assignment = (s: TenantSnapshot, name: string) => roleAssignmentFromArm(s.roleAssignments.find((a) => a.name === name)!);
const instanceOf = (s: TenantSnapshot, name: string) => s.roleAssignmentScheduleInstances!.find((i) => (i as { name?: string }).name === name) as { properties: Record<string, unknown> };

/** The fixture with the guest's Owner instance changed, and these PIM requests. */
function variant(instance: Record<string, unknown>, requests: Record<string, unknown>[] | "not exported" = []): TenantSnapshot {
  const copy = structuredClone(snapshot);
  Object.assign(instanceOf(copy, GUEST_OWNER).properties, instance);
  if (requests === "not exported") delete copy.roleAssignmentScheduleRequests;
  else copy.roleAssignmentScheduleRequests = requests.map((r, i) => ({ id: `${SUB}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/r${i}`, properties: r }));
  return copy;
}

const guestOwner = assignment(snapshot, GUEST_OWNER);
const request = (requestType: string, createdOn: string, status = "Provisioned") => ({ scope: guestOwner.scope, roleDefinitionId: guestOwner.roleDefinitionId, principalId: guestOwner.principalId, requestType, status, createdOn });

describe("the snapshot's PIM facts", () => {
  it("call an assignment whose only instance is ARM's mirror direct and permanent", async () => {
    const context = new SnapshotContext(snapshot);
    expect(await context.pimStatus(guestOwner)).toEqual({ viaPim: false, permanent: true, assignmentType: null });
  });

  it("call an activation, a time-bound PIM assignment, and a permanent one PIM's request made, PIM-made", async () => {
    const activated = new SnapshotContext(variant({ assignmentType: "Activated", endDateTime: "2026-11-22T18:00:00Z", linkedRoleEligibilityScheduleId: `${SUB}/providers/Microsoft.Authorization/roleEligibilitySchedules/e1` }));
    expect(await activated.pimStatus(guestOwner)).toEqual({ viaPim: true, permanent: false, assignmentType: "Activated" });
    const timeBound = new SnapshotContext(variant({ endDateTime: "2027-03-01T00:00:00Z" }));
    expect(await timeBound.pimStatus(guestOwner)).toEqual({ viaPim: true, permanent: false, assignmentType: "Assigned" });
    const permanent = new SnapshotContext(variant({}, [request("AdminAssign", "2026-11-01T10:00:00Z")]));
    expect(await permanent.pimStatus(guestOwner)).toEqual({ viaPim: true, permanent: true, assignmentType: "Assigned" });
  });

  it("go by PIM's latest request that did not fail: removed in PIM then granted directly is direct", async () => {
    const removed = new SnapshotContext(variant({}, [request("AdminAssign", "2026-01-01T00:00:00Z"), request("AdminRemove", "2026-06-01T00:00:00Z"), request("AdminAssign", "2026-10-01T00:00:00Z", "Denied")]));
    expect((await removed.pimStatus(guestOwner)).viaPim).toBe(false);
  });

  it("are unknown (null) when the requests were not exported and the instance looks like a mirror", async () => {
    const context = new SnapshotContext(variant({}, "not exported"));
    expect(await context.pimStatus(guestOwner)).toEqual({ viaPim: null, permanent: true, assignmentType: null });
  });

  it("count a mirrored Owner as permanent and a time-bound one as not", async () => {
    const twoOwners = variant({ endDateTime: "2027-03-01T00:00:00Z" });
    twoOwners.roleAssignments.push({ ...structuredClone(twoOwners.roleAssignments.find((a) => a.name === GUEST_OWNER)!), id: `${SUB}/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/b1`, name: "b1", properties: { ...twoOwners.roleAssignments.find((a) => a.name === GUEST_OWNER)!.properties, principalId: "cccccccc-0000-4000-8000-000000000003" } });
    const summary = await new SnapshotContext(twoOwners).scopeSummary(`${SUB}/resourceGroups/rg-app`);
    expect(summary).toMatchObject({ owners: 2, permanentOwners: 1 });
  });
});

describe("pimStatusOf", () => {
  const grant = { principalId: "P", roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/R", scope: "/subscriptions/S" };
  const mirror: PimInstanceRecord = { principalId: "p", roleDefinitionId: "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/r", scope: "/SUBSCRIPTIONS/S/", endDateTime: null, assignmentType: "Assigned", memberType: "Direct", linkedRoleEligibilityScheduleId: null };
  const selfActivate: PimRequestRecord = { principalId: "p", roleDefinitionId: "r", scope: "/subscriptions/s", requestType: "SelfActivate", status: "Provisioned", createdOn: "2026-01-01T00:00:00Z" };

  it("matches a grant's records whatever their casing or role id prefix", () => {
    expect(pimStatusOf(grant, [mirror], [selfActivate]).viaPim).toBe(true);
  });

  it("ignores instances a group membership or an inherited scope produced", () => {
    expect(pimStatusOf(grant, [{ ...mirror, memberType: "Group", endDateTime: "2027-01-01T00:00:00Z" }], []).viaPim).toBe(false);
  });

  it("knows nothing when PIM cannot be read", () => {
    expect(pimStatusOf(grant, null, null)).toEqual({ viaPim: null, permanent: null, assignmentType: null });
  });
});
