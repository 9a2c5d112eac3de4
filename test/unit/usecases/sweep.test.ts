import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPolicyPack } from "../../../shared/policy/load.js";
import { readTenantSnapshot } from "../../../shared/model/snapshot.js";
import type { Exemption } from "../../../shared/policy/exemptions.js";
import { sweepTenant } from "../../../shared/usecases/sweep.js";
import { snapshotInventory } from "../../../shared/usecases/sweepSnapshot.js";
import { InMemoryFindingsStore } from "../../support/fakes.js";
import { fixture } from "../../support/testAzure.js";

const NOW = new Date("2026-12-01T00:00:00.000Z");
const snapshot = await readTenantSnapshot(fixture("tenants/sweep.json"));
const pack = await loadPolicyPack(fileURLToPath(new URL("../../../policies", import.meta.url)));
const IVAN_CONTRIBUTOR = "b0000001-0000-4000-8000-000000000003";

async function sweep(store: InMemoryFindingsStore, now = NOW, exemptions: readonly Exemption[] = []) {
  const { inventory } = await snapshotInventory(snapshot, { now, lookbackDays: 90 });
  return sweepTenant(inventory, { findings: store, policies: pack.policies, exemptions, now });
}
const holding = (store: InMemoryFindingsStore, policyId: string) => [...store.findings.values()].filter((f) => f.policyId === policyId && f.status !== "resolved");

describe("sweepTenant over a snapshot with logs", () => {
  it("judges who is idle, new, over-privileged and granting from a new address as a security engineer would", async () => {
    const store = new InMemoryFindingsStore();
    const run = await sweep(store);
    expect(run.evaluationErrors).toEqual([]);
    expect(holding(store, "inactive-identity").map((f) => f.principalName)).toEqual(["Ivan Idle"]);
    const over = holding(store, "overprovisioned-role");
    expect(over.map((f) => `${f.principalName} ${f.roleName}`)).toEqual(["vm-operations Owner"]);
    expect(over[0]!.matchedFacts["activity.narrowestBuiltInRole"]).toBe("Virtual Machine Contributor");
    const unusual = holding(store, "unusual-granter");
    expect(unusual.map((f) => [f.principalName, f.grantedByIpAddress])).toEqual([["Nina New", "198.51.100.66"]]);
  });

  it("sees management-group and root grants and a subscription without an owner after one sweep", async () => {
    const store = new InMemoryFindingsStore();
    await sweep(store);
    expect(holding(store, "management-group-privileged-grant").map((f) => f.scopeLevel)).toEqual(["managementGroup"]);
    expect(holding(store, "root-scope-assignment").map((f) => f.scope)).toEqual(["/"]);
    const orphan = holding(store, "subscription-without-owner");
    expect(orphan.map((f) => f.assignmentId)).toEqual(["/subscriptions/5b5b5b5b-0000-4000-8000-000000000002"]);
    expect(orphan[0]!.subscriptionId).toBe("5b5b5b5b-0000-4000-8000-000000000002");
  });

  it("writes nothing and announces nothing when a steady tenant is swept a second time", async () => {
    const store = new InMemoryFindingsStore();
    const first = await sweep(store);
    expect(first.findingWrites).toBeGreaterThan(0);
    expect(Math.max(...store.transactions)).toBeLessThanOrEqual(100);
    for (const [id, f] of store.findings) store.findings.set(id, { ...f, alertPending: false });
    const writes = store.writes;
    const second = await sweep(store, new Date(NOW.getTime() + 60_000));
    expect(second.findingWrites).toBe(0);
    expect(store.writes).toBe(writes);
    expect([...store.findings.values()].filter((f) => f.alertPending)).toEqual([]);
    expect(second.holding).toBe(first.holding);
  });

  it("resolves the findings of an assignment that no longer exists", async () => {
    const store = new InMemoryFindingsStore();
    await sweep(store);
    const gone = { ...snapshot, roleAssignments: snapshot.roleAssignments.filter((a) => a.name !== IVAN_CONTRIBUTOR) };
    const { inventory } = await snapshotInventory(gone, { now: NOW, lookbackDays: 90 });
    const run = await sweepTenant(inventory, { findings: store, policies: pack.policies, exemptions: [], now: NOW });
    expect(run.resolved).toBeGreaterThan(0);
    const ivan = [...store.findings.values()].filter((f) => f.assignmentName === IVAN_CONTRIBUTOR);
    expect(ivan.length).toBeGreaterThan(0);
    expect(ivan.every((f) => f.status === "resolved" && f.resolution === "the role assignment no longer exists")).toBe(true);
  });

  it("reopens a finding when its exemption expires", async () => {
    const store = new InMemoryFindingsStore();
    const exemption: Exemption = { id: "ivan-on-leave", policy: "inactive-identity", principalId: "a1a1a1a1-0000-4000-8000-000000000002", owner: "secops@contoso.com", justification: "on parental leave until the end of the year", expires: "2026-12-15T00:00:00.000Z", file: "exemptions.yaml", line: 1 };
    await sweep(store, NOW, [exemption]);
    expect(holding(store, "inactive-identity").map((f) => f.status)).toEqual(["exempted"]);
    const later = await sweep(store, new Date("2026-12-20T00:00:00.000Z"), [exemption]);
    const [reopened] = holding(store, "inactive-identity");
    expect(reopened?.status).toBe("open");
    expect(reopened?.alertTransition).toBe("opened");
    expect(later.opened).toBeGreaterThan(0);
  });
});
