import { describe, expect, it } from "vitest";
import { CachedRoleDefinitions } from "../../../shared/azure/arm.js";
import type { RoleDefinitions } from "../../../shared/facts/sources.js";
import type { RoleDefinition } from "../../../shared/model/access.js";

const owner: RoleDefinition = { id: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657", name: "8e3af657", roleName: "Owner", roleType: "BuiltInRole", description: null, permissions: [], assignableScopes: [] };

function counting(result: () => Promise<RoleDefinition | null>): RoleDefinitions & { calls: number } {
  const inner = { calls: 0, getById: async () => (inner.calls++, result()) };
  return inner;
}

describe("CachedRoleDefinitions", () => {
  it("asks ARM once per role GUID, whatever scope prefixes the id, until the entry expires", async () => {
    let now = 0;
    const inner = counting(async () => owner);
    const cache = new CachedRoleDefinitions(inner, 1_000, () => now);
    await Promise.all([cache.getById("/subscriptions/a/providers/Microsoft.Authorization/roleDefinitions/8E3AF657"), cache.getById("/providers/Microsoft.Authorization/roleDefinitions/8e3af657")]);
    expect(inner.calls).toBe(1);
    now = 1_001;
    await cache.getById("/providers/Microsoft.Authorization/roleDefinitions/8e3af657");
    expect(inner.calls).toBe(2);
  });

  it("does not keep a failure", async () => {
    let fail = true;
    const inner = counting(async () => {
      if (fail) throw new Error("503");
      return owner;
    });
    const cache = new CachedRoleDefinitions(inner, 60_000);
    await expect(cache.getById("r/roleDefinitions/x")).rejects.toThrow("503");
    fail = false;
    await expect(cache.getById("r/roleDefinitions/x")).resolves.toBe(owner);
  });
});
