import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SnapshotError } from "../../../shared/errors.js";
import { parseTenantSnapshot, readTenantSnapshot } from "../../../shared/model/snapshot.js";

describe("the tenant snapshot format", () => {
  it("loads the demo tenant with its realistic mix", async () => {
    const demo = await readTenantSnapshot(fileURLToPath(new URL("../../../local/demo/tenant.json", import.meta.url)));
    expect(demo.roleAssignments.length).toBeGreaterThan(300);
    const types = new Set(demo.principals.map((p) => p["@odata.type"]));
    expect(types).toEqual(new Set(["#microsoft.graph.user", "#microsoft.graph.group", "#microsoft.graph.servicePrincipal"]));
    expect(demo.roleDefinitions.some((d) => d.properties.type === "CustomRole")).toBe(true);
    const scopes = new Set(demo.roleAssignments.map((a) => a.properties.scope.split("/").length));
    expect(scopes.size).toBeGreaterThanOrEqual(4);
  });

  it("keeps properties it does not know and fills optional sections", () => {
    const snapshot = parseTenantSnapshot({
      tenantId: "t",
      roleDefinitions: [],
      roleAssignments: [{ id: "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a", name: "a", properties: { roleDefinitionId: "r", principalId: "p", scope: "/subscriptions/s", extra: 1 } }],
      vendorSection: { x: 1 },
    });
    expect(snapshot.roleAssignments[0]?.properties).toMatchObject({ extra: 1, principalType: "User", condition: null });
    expect(snapshot.principals).toEqual([]);
    expect(snapshot.managementGroups).toEqual([]);
    expect((snapshot as Record<string, unknown>).vendorSection).toEqual({ x: 1 });
  });

  it("rejects a snapshot without role definitions or role assignments, naming the missing section, rather than judging every role as deleted", () => {
    const assignments = [{ id: "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a", name: "a", properties: { roleDefinitionId: "r", principalId: "p", scope: "/subscriptions/s" } }];
    expect(() => parseTenantSnapshot({ tenantId: "t", roleAssignments: assignments }, "mine.json")).toThrow(
      new SnapshotError("mine.json is not a valid tenant snapshot: the roleDefinitions section is missing (a snapshot lists the tenant's role definitions and role assignments, [] when there are none)"),
    );
    expect(() => parseTenantSnapshot({ tenantId: "t", roleDefinitions: [] }, "mine.json")).toThrow(/the roleAssignments section is missing/);
    expect(() => parseTenantSnapshot({ tenantId: "t" }, "mine.json")).toThrow(/the roleDefinitions and roleAssignments sections are missing/);
    // Empty sections are a tenant with nothing in them, not a missing section.
    expect(parseTenantSnapshot({ tenantId: "t", roleDefinitions: [], roleAssignments: [] }).roleAssignments).toEqual([]);
  });

  it("names the path of what is wrong", () => {
    expect(() => parseTenantSnapshot({ tenantId: "t", roleDefinitions: [], roleAssignments: [], principals: [{ "@odata.type": "#microsoft.graph.device", id: "d" }] }, "mine.json")).toThrow(SnapshotError);
    expect(() => parseTenantSnapshot({ roleDefinitions: [], roleAssignments: [] }, "mine.json")).toThrow(/mine\.json is not a valid tenant snapshot: tenantId/);
  });
});
