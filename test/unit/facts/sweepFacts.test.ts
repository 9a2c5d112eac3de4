import { describe, expect, it } from "vitest";
import { SnapshotActivityLogs } from "../../../shared/facts/snapshotActivity.js";
import { ActivityIndex, gatherActivity } from "../../../shared/facts/sweepFacts.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid } from "../../../shared/model/access.js";
import { readTenantSnapshot } from "../../../shared/model/snapshot.js";
import { fixture } from "../../support/testAzure.js";

const NOW = new Date("2026-12-01T00:00:00.000Z");
const snapshot = await readTenantSnapshot(fixture("tenants/sweep.json"));
const roles = new Map(snapshot.roleDefinitions.map((d) => [d.name, roleDefinitionFromArm(d)]));

async function factsOf(name: string, logs = snapshot) {
  const evidence = await gatherActivity(new SnapshotActivityLogs(logs, NOW), { lookbackDays: 90 });
  const index = new ActivityIndex(evidence, roles.values(), NOW);
  const a = roleAssignmentFromArm(snapshot.roleAssignments.find((x) => x.name === name)!);
  return index.factsFor(a, roles.get(roleDefinitionGuid(a.roleDefinitionId))!, snapshot.principals.find((p) => p.id === a.principalId) ?? null);
}

describe("SnapshotActivityLogs", () => {
  it("keeps the last successful sign-in per principal over the four tables, ignoring failures and rows outside the window", async () => {
    const answer = await new SnapshotActivityLogs(snapshot, NOW).lastSignIns({ lookbackDays: 90 });
    expect(answer.status).toBe("complete");
    const byId = new Map(answer.status === "complete" ? answer.value.map((s) => [s.principalId, s]) : []);
    expect(byId.get("a0a0a0a0-0000-4000-8000-000000000001")?.lastSignIn).toBe("2026-11-29T00:00:00.000Z");
    expect(byId.get("a3a3a3a3-0000-4000-8000-000000000004")?.source).toBe("AADServicePrincipalSignInLogs");
    // Ivan's only sign-in in the window failed (50126); his success is 200 days old.
    expect(byId.has("a1a1a1a1-0000-4000-8000-000000000002")).toBe(false);
  });

  it("says partial when a sign-in table is missing, and unavailable without any", async () => {
    const { AADManagedIdentitySignInLogs: _, ...rest } = snapshot.logs;
    expect((await new SnapshotActivityLogs({ logs: rest }, NOW).lastSignIns({ lookbackDays: 90 })).status).toBe("partial");
    expect((await new SnapshotActivityLogs({ logs: {} }, NOW).lastSignIns({ lookbackDays: 90 })).status).toBe("unavailable");
    expect((await new SnapshotActivityLogs({ logs: {} }, NOW).operations({ lookbackDays: 90 })).status).toBe("unavailable");
  });

  it("lists successful role-assignment writes with caller and address, not Start or Failed records", async () => {
    const answer = await new SnapshotActivityLogs(snapshot, NOW).grants({ lookbackDays: 104 });
    expect(answer.status === "complete" && answer.value.map((g) => g.callerIpAddress)).toEqual(["203.0.113.7", "203.0.113.7", "198.51.100.66"]);
  });
});

describe("ActivityIndex.factsFor", () => {
  it("knows an idle user by the window's length, not by a failed sign-in", async () => {
    const facts = await factsOf("b0000001-0000-4000-8000-000000000003");
    expect(facts.principal).toEqual({ lastSignIn: null, daysSinceSignIn: 90n, createdDaysAgo: 700n });
  });

  it("knows an active user's days since sign-in", async () => {
    expect((await factsOf("b0000001-0000-4000-8000-000000000001")).principal.daysSinceSignIn).toBe(2n);
  });

  it("names the privileged actions an Owner never used and the narrowest built-in role covering what it did", async () => {
    const { activity } = await factsOf("b0000001-0000-4000-8000-000000000005");
    expect(activity.known).toBe(true);
    expect(activity.operations).toEqual(["microsoft.compute/virtualmachines/start/action", "microsoft.compute/virtualmachines/write"]);
    expect(activity.unusedPrivilegedActions).toEqual(["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleDefinitions/write", "Microsoft.Authorization/elevateAccess/action"]);
    expect(activity.narrowestBuiltInRole).toBe("Virtual Machine Contributor");
  });

  it("never suggests a narrower role for a data role, and knows nothing of a group's activity", async () => {
    expect((await factsOf("b0000001-0000-4000-8000-00000000000a")).activity.narrowestBuiltInRole).toBeNull();
    const group = await factsOf("b0000001-0000-4000-8000-000000000006");
    expect(group.activity.known).toBe(false);
    expect(group.principal.daysSinceSignIn).toBeNull();
  });

  it("tells a grant from a caller/IP pair seen in the 14-day baseline from one that was not", async () => {
    expect((await factsOf("b0000001-0000-4000-8000-000000000003")).grantedBy).toEqual({ seenInBaseline: true, ipAddress: "203.0.113.7" });
    expect((await factsOf("b0000001-0000-4000-8000-000000000004")).grantedBy).toEqual({ seenInBaseline: false, ipAddress: "198.51.100.66" });
    // No record of the grant in the logs: unknown, not "unusual".
    expect((await factsOf("b0000001-0000-4000-8000-000000000001")).grantedBy.seenInBaseline).toBeNull();
  });

  it("leaves every log fact null when the logs are unavailable", async () => {
    const facts = await factsOf("b0000001-0000-4000-8000-000000000003", { ...snapshot, logs: {} });
    expect(facts.principal.daysSinceSignIn).toBeNull();
    expect(facts.activity.known).toBe(false);
    expect(facts.grantedBy.seenInBaseline).toBeNull();
  });
});
