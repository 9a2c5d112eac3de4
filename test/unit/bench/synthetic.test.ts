import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { syntheticTenant } from "../../../bench/synthetic.js";
import { parseTenantSnapshot, readTenantSnapshot, type TenantSnapshot } from "../../../shared/model/snapshot.js";

// The sweep bench's tenant: the size asked for, ids that do not collide, and logs, PIM records and
// principals that belong to its assignments as an export's would.

const DEMO = fileURLToPath(new URL("../../../local/demo/tenant.json", import.meta.url));
const lower = (s: unknown) => String(s ?? "").toLowerCase();

let seed: TenantSnapshot;
let tenant: TenantSnapshot;
beforeAll(async () => {
  seed = await readTenantSnapshot(DEMO);
  tenant = syntheticTenant(seed, { assignments: 3_000, principals: 600 });
});

describe("the synthetic tenant", () => {
  it("has the assignments and principals asked for, each id once, and is a valid snapshot", () => {
    expect(tenant.roleAssignments).toHaveLength(3_000);
    expect(tenant.principals).toHaveLength(600);
    expect(new Set(tenant.roleAssignments.map((a) => lower(a.id))).size).toBe(3_000);
    expect(new Set(tenant.principals.map((p) => lower(p.id))).size).toBe(600);
    expect(new Set(tenant.subscriptions.map((s) => lower(s.subscriptionId))).size).toBe(tenant.subscriptions.length);
    expect(() => parseTenantSnapshot(JSON.parse(JSON.stringify(tenant)))).not.toThrow();
  });

  it("spreads assignments over the principals, and leaves deleted only the principals the seed had deleted", () => {
    const principals = new Set(tenant.principals.map((p) => lower(p.id)));
    const held = new Set(tenant.roleAssignments.map((a) => lower(a.properties.principalId)));
    const orphaned = tenant.roleAssignments.filter((a) => !principals.has(lower(a.properties.principalId))).length;
    const seedPrincipals = new Set(seed.principals.map((p) => lower(p.id)));
    const seedOrphaned = seed.roleAssignments.filter((a) => !seedPrincipals.has(lower(a.properties.principalId))).length / seed.roleAssignments.length;
    expect(held.size).toBeGreaterThan(seed.roleAssignments.length);
    expect(orphaned / tenant.roleAssignments.length).toBeCloseTo(seedOrphaned, 1);
    // Every assignment lives in a subscription of the tenant, or where the seed had it.
    const subscriptions = new Set(tenant.subscriptions.map((s) => lower(s.subscriptionId)));
    for (const a of tenant.roleAssignments) {
      const sub = /^\/subscriptions\/([^/]+)/i.exec(a.properties.scope)?.[1];
      if (sub) expect(subscriptions.has(lower(sub))).toBe(true);
    }
  });

  it("gives each replicated principal its sign-ins and each replicated grant its activity log row", () => {
    const principals = new Set(tenant.principals.map((p) => lower(p.id)));
    const signIns = tenant.logs.SigninLogs ?? [];
    expect(signIns.length).toBeGreaterThan((seed.logs.SigninLogs ?? []).length * 2);
    const signedIn = new Set(signIns.map((r) => lower(r.UserId)));
    expect([...signedIn].filter((id) => !principals.has(id))).toEqual([...new Set((seed.logs.SigninLogs ?? []).map((r) => lower(r.UserId)))].filter((id) => !seed.principals.some((p) => lower(p.id) === id)));
    const assignments = new Set(tenant.roleAssignments.map((a) => lower(a.name)));
    const grants = (tenant.logs.AzureActivity ?? []).filter((r) => /roleassignments\/write/i.test(String(r.OperationNameValue)));
    expect(grants.length).toBeGreaterThan((seed.logs.AzureActivity ?? []).filter((r) => /roleassignments\/write/i.test(String(r.OperationNameValue))).length * 2);
    const seedGrants = new Set((seed.logs.AzureActivity ?? []).map((r) => lower(String(r._ResourceId).split("/").pop())));
    for (const row of grants) {
      const name = lower(String(row._ResourceId).split("/").pop());
      expect(assignments.has(name) || seedGrants.has(name)).toBe(true);
    }
  });

  it("carries a PIM instance for each grant the seed had one for, in the replica's own subscriptions", () => {
    const instances = tenant.roleAssignmentScheduleInstances ?? [];
    expect(instances.length).toBeGreaterThan(tenant.roleAssignments.length * 0.9);
    const ids = new Set(tenant.roleAssignments.map((a) => lower(a.id)));
    const origins = instances.map((i) => lower((i as { properties: { originRoleAssignmentId?: string } }).properties.originRoleAssignmentId));
    expect(origins.filter((o) => o !== "" && !ids.has(o))).toEqual([]);
  });
});
