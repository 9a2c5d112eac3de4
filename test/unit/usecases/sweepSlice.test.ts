import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SnapshotContext } from "../../../shared/facts/snapshotContext.js";
import { pimInstanceFromArm, pimRequestFromArm, type PimInstanceRecord, type PimRequestRecord } from "../../../shared/facts/pim.js";
import { findingsPartition } from "../../../shared/findings/keys.js";
import { roleAssignmentFromArm, roleDefinitionFromArm } from "../../../shared/model/access.js";
import { readTenantSnapshot } from "../../../shared/model/snapshot.js";
import { hierarchyOf, SliceContext, type PartitionPim } from "../../../shared/usecases/sweepSlice.js";

// A shard's context is built from its own partitions only; it must answer every question exactly as
// the context of the whole tenant does (the snapshot's, which agrees with ARM's: paths.test.ts).

const DEMO = fileURLToPath(new URL("../../../local/demo/tenant.json", import.meta.url));

describe("a shard's tenant context", () => {
  it("gives every assignment of the demo tenant the scope counts, PIM status and duplicate roles the whole tenant's context gives, from its partition alone", async () => {
    const snapshot = await readTenantSnapshot(DEMO);
    const whole = new SnapshotContext(snapshot);
    const roles = new Map(snapshot.roleDefinitions.map((d) => [d.name.toLowerCase(), roleDefinitionFromArm(d)]));
    const assignments = snapshot.roleAssignments.map(roleAssignmentFromArm);
    const tree = {
      tenantId: snapshot.tenantId,
      managementGroups: snapshot.managementGroups.map((m) => ({ name: m.name, parent: ((m.properties as { details?: { parent?: { id?: string } | null } } | undefined)?.details?.parent?.id ?? "").split("/").pop() || null })),
      subscriptions: snapshot.subscriptions.map((s) => ({ subscriptionId: s.subscriptionId, managementGroup: s.managementGroupId?.split("/").pop() ?? null })),
    };
    const instances = (snapshot.roleAssignmentScheduleInstances ?? []).map(pimInstanceFromArm).filter((i): i is PimInstanceRecord => i !== null);
    const requests = (snapshot.roleAssignmentScheduleRequests ?? []).map(pimRequestFromArm).filter((r): r is PimRequestRecord => r !== null);
    const partitions = [...new Set(assignments.map((a) => findingsPartition(a.scope)))];
    expect(partitions.length).toBeGreaterThan(3);
    let privilegedOwnersSeen = 0;
    for (const partition of partitions) {
      const mine = assignments.filter((a) => findingsPartition(a.scope) === partition);
      const pim = new Map<string, PartitionPim>([[partition, { instances: instances.filter((i) => findingsPartition(i.scope) === partition), requests: requests.filter((r) => findingsPartition(r.scope) === partition) }]]);
      const slice = new SliceContext(mine, roles, pim, hierarchyOf(tree));
      for (const a of mine) {
        const role = roles.get(a.roleDefinitionId.split("/").pop()!.toLowerCase())!;
        expect(await slice.scopeSummary(a.scope), a.id).toEqual(await whole.scopeSummary(a.scope));
        expect(await slice.pimStatus(a), a.id).toEqual(await whole.pimStatus(a));
        expect(await slice.duplicateRoleNames(role, a.scope), a.id).toEqual(await whole.duplicateRoleNames(role, a.scope));
        if ((await slice.scopeSummary(a.scope)).permanentOwners > 0) privilegedOwnersSeen += 1;
      }
    }
    expect(privilegedOwnersSeen).toBeGreaterThan(0);
  });

  it("leaves PIM unknown where its partition's PIM could not be read", async () => {
    const a = { id: "/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/x", name: "x", scope: "/subscriptions/s1", roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", principalId: "p1", principalType: "User", condition: null, conditionVersion: null, description: null, createdOn: null, updatedOn: null, createdBy: null, updatedBy: null, delegatedManagedIdentityResourceId: null };
    const slice = new SliceContext([a], new Map(), new Map([["s1", { instances: null, requests: null }]]), hierarchyOf({ tenantId: "t", managementGroups: [], subscriptions: [] }));
    expect(await slice.pimStatus(a)).toEqual({ viaPim: null, permanent: null, assignmentType: null });
    expect((await slice.scopeSummary("/subscriptions/s1")).permanentOwners).toBe(1);
  });
});
