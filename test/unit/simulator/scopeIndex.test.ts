import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { atAboveBelow, type ListFilter } from "../../../local/simulator/armRequest.js";
import { ScopedMap, VersionedMap } from "../../../local/simulator/scopeIndex.js";
import { TenantState } from "../../../local/simulator/tenant.js";
import type { ArmRoleAssignment } from "../../../shared/model/azure.js";
import { readTenantSnapshot, type TenantSnapshot } from "../../../shared/model/snapshot.js";

// ARM's list at a scope answered from the scope index must be exactly what a scan of every
// assignment answers: at, above and below by the tenant's hierarchy, in the collection's order.

const DEMO = fileURLToPath(new URL("../../../local/demo/tenant.json", import.meta.url));

/** The list semantics applied to every assignment, one by one: what the index must reproduce. */
function scanned(state: TenantState, scope: string, filter: ListFilter): string[] {
  const queryScope = scope === "" ? "/" : scope;
  const above = new Set(state.ancestors(queryScope));
  const at = (queryScope === "/" ? "" : queryScope).toLowerCase();
  return [...state.assignments.values()]
    .filter((a) => {
      if (filter.kind === "principal" && a.properties.principalId.toLowerCase() !== filter.principalId) return false;
      const s = a.properties.scope.toLowerCase();
      const below = queryScope === "/" || state.ancestors(a.properties.scope).includes(at);
      return above.has(s === "" ? "/" : s) || (filter.kind !== "atScope" && below);
    })
    .map((a) => a.id);
}

const listed = (state: TenantState, scope: string, filter: ListFilter) => atAboveBelow(state, scope, filter, state.assignments.index, (a) => a.properties.principalId).map((a) => a.id);

/** Every scope worth asking at: each assignment's scope and the scopes above it, spelled as stored and upper-cased, and a subscription holding nothing. */
function scopesOf(state: TenantState): string[] {
  const scopes = new Set<string>(["/", "/subscriptions/00000000-0000-0000-0000-000000000000"]);
  for (const a of state.assignments.values()) {
    scopes.add(a.properties.scope);
    scopes.add(a.properties.scope.toUpperCase());
    for (const s of state.ancestors(a.properties.scope)) scopes.add(s);
  }
  return [...scopes];
}

let snapshot: TenantSnapshot;
beforeAll(async () => {
  snapshot = await readTenantSnapshot(DEMO);
});

describe("ARM's list at a scope over the scope index", () => {
  it("answers every scope of the demo tenant, with and without atScope() and a principal filter, exactly as a scan of every assignment", () => {
    const state = new TenantState(snapshot);
    const principal = snapshot.roleAssignments[0]!.properties.principalId.toLowerCase();
    const filters: ListFilter[] = [{ kind: "none" }, { kind: "atScope" }, { kind: "principal", principalId: principal }];
    let compared = 0;
    for (const scope of scopesOf(state)) {
      for (const filter of filters) {
        expect(listed(state, scope, filter), `${scope} ${filter.kind}`).toEqual(scanned(state, scope, filter));
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it("follows writes, replacements and deletes made on the map itself, keeping each id's place in the order", () => {
    const state = new TenantState(snapshot);
    const [first, second] = [...state.assignments.values()].filter((a) => a.properties.scope.startsWith("/subscriptions/")) as [ArmRoleAssignment, ArmRoleAssignment];
    const subscription = /^\/subscriptions\/[^/]+/i.exec(second.properties.scope)![0];
    // Replaced in place (a PUT of an existing assignment): same place, new object.
    state.assignments.set(first.id.toLowerCase(), { ...first, properties: { ...first.properties, description: "updated" } });
    state.assignments.delete(second.id.toLowerCase());
    const added: ArmRoleAssignment = { ...second, id: `${subscription}/resourceGroups/rg-new/providers/Microsoft.Authorization/roleAssignments/new`, name: "new", properties: { ...second.properties, scope: `${subscription}/resourceGroups/rg-new` } };
    state.assignments.set(added.id.toLowerCase(), added);
    for (const scope of ["/", subscription, `${subscription}/resourceGroups/rg-new`, first.properties.scope, second.properties.scope]) {
      expect(listed(state, scope, { kind: "none" })).toEqual(scanned(state, scope, { kind: "none" }));
      expect(listed(state, scope, { kind: "atScope" })).toEqual(scanned(state, scope, { kind: "atScope" }));
    }
    const all = [...state.assignments.values()].map((a) => a.id);
    expect(listed(state, "/", { kind: "none" }).indexOf(first.id)).toBe(all.indexOf(first.id));
    expect(listed(state, "/", { kind: "none" }).at(-1)).toBe(added.id);
    expect(listed(state, "/", { kind: "none" })).not.toContain(second.id);
    const updated = atAboveBelow(state, first.properties.scope, { kind: "atScope" }, state.assignments.index, (a) => a.properties.principalId).find((a) => a.id === first.id);
    expect(updated?.properties.description).toBe("updated");
  });
});

describe("the simulator's maps", () => {
  it("give a new version with every write and forget an emptied scope", () => {
    const map = new ScopedMap<{ scope: string }>((v) => v.scope);
    const versions = [map.version];
    map.set("a", { scope: "/subscriptions/S1" });
    versions.push(map.version);
    map.set("b", { scope: "/subscriptions/s1/resourceGroups/rg" });
    map.delete("a");
    versions.push(map.version);
    expect(new Set(versions).size).toBe(3);
    expect([...map.index.scopesIn("s1")]).toEqual(["/subscriptions/s1/resourcegroups/rg"]);
    map.clear();
    expect([...map.index.scopes()]).toEqual([]);
    const plain = new VersionedMap<number>();
    const before = plain.version;
    plain.set("x", 1);
    expect(plain.version).not.toBe(before);
  });
});
