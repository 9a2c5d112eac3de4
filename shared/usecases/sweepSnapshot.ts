import { SnapshotActivityLogs } from "../facts/snapshotActivity.js";
import { SnapshotContext } from "../facts/snapshotContext.js";
import { ActivityIndex, gatherActivity, type ActivityEvidence } from "../facts/sweepFacts.js";
import { roleAssignmentFromArm, roleDefinitionFromArm } from "../model/access.js";
import type { TenantSnapshot } from "../model/snapshot.js";
import type { SweepInventory } from "./sweep.js";

/** A sweep's inventory from a tenant snapshot and its `logs` section, as of `now`. No Azure calls. */
export async function snapshotInventory(snapshot: TenantSnapshot, options: { readonly now: Date; readonly lookbackDays: number }): Promise<{ readonly inventory: SweepInventory; readonly evidence: ActivityEvidence }> {
  const roles = new Map(snapshot.roleDefinitions.map((d) => [d.name.toLowerCase(), roleDefinitionFromArm(d)]));
  const evidence = await gatherActivity(new SnapshotActivityLogs(snapshot, options.now), { lookbackDays: options.lookbackDays });
  const inventory: SweepInventory = {
    tenantId: snapshot.tenantId,
    assignments: snapshot.roleAssignments.map(roleAssignmentFromArm),
    roles,
    principals: new Map(snapshot.principals.map((p) => [p.id.toLowerCase(), p])),
    subscriptionIds: snapshot.subscriptions.map((s) => s.subscriptionId.toLowerCase()),
    context: new SnapshotContext(snapshot),
    activity: new ActivityIndex(evidence, roles.values(), options.now),
  };
  return { inventory, evidence };
}
