import type { ArmRoleAssignment, ArmRoleDefinition, GraphDirectoryObject } from "../../shared/model/azure.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";

const MG_PREFIX = "/providers/microsoft.management/managementgroups/";

/** The simulator's mutable copy of a tenant snapshot, indexed the way ARM and Graph look things up. */
export class TenantState {
  readonly tenantId: string;
  readonly assignments = new Map<string, ArmRoleAssignment>();
  readonly definitions = new Map<string, ArmRoleDefinition>();
  readonly principals = new Map<string, GraphDirectoryObject>();
  /** PIM roleAssignmentScheduleInstances, served as they were exported; null when the snapshot has none (PIM unreadable). */
  readonly scheduleInstances: { properties: { scope: string; principalId: string } }[] | null;
  readonly #mgParent = new Map<string, string | null>();
  readonly #subscriptionMg = new Map<string, string | null>();

  constructor(snapshot: TenantSnapshot) {
    this.tenantId = snapshot.tenantId;
    for (const a of snapshot.roleAssignments) this.assignments.set(a.id.toLowerCase(), structuredClone(a));
    for (const d of snapshot.roleDefinitions) this.definitions.set(d.name.toLowerCase(), structuredClone(d));
    for (const p of snapshot.principals) this.principals.set(p.id.toLowerCase(), structuredClone(p));
    this.scheduleInstances = snapshot.roleAssignmentScheduleInstances === undefined ? null : structuredClone(snapshot.roleAssignmentScheduleInstances).filter(
      (i): i is { properties: { scope: string; principalId: string } } & typeof i =>
        typeof (i as { properties?: { scope?: unknown; principalId?: unknown } }).properties?.scope === "string" && typeof (i as { properties?: { principalId?: unknown } }).properties?.principalId === "string",
    );
    for (const mg of snapshot.managementGroups) {
      const parent = (mg.properties as { details?: { parent?: { id?: string } } } | undefined)?.details?.parent?.id;
      this.#mgParent.set(mg.name.toLowerCase(), parent ? (parent.split("/").pop() ?? "").toLowerCase() : null);
    }
    for (const s of snapshot.subscriptions) {
      this.#subscriptionMg.set(s.subscriptionId.toLowerCase(), s.managementGroupId ? (s.managementGroupId.split("/").pop() ?? "").toLowerCase() : null);
    }
  }

  /** The scope and every scope above it, lower-cased: "/", management groups, subscription, group, resources. */
  ancestors(scope: string): string[] {
    const id = scope.toLowerCase().replace(/\/+$/, "");
    if (id === "" || id === "/") return ["/"];
    if (id.startsWith(MG_PREFIX)) return ["/", ...this.#mgChain(id.slice(MG_PREFIX.length)).reverse()];
    // ["subscriptions", s, "resourcegroups", rg, "providers", namespace, type, name, type, name, …]
    const parts = id.split("/").slice(1);
    const prefix = (length: number) => `/${parts.slice(0, length).join("/")}`;
    const out = ["/", ...this.#mgChain(this.#subscriptionMg.get(parts[1] ?? "") ?? null).reverse(), prefix(2)];
    if (parts.length >= 4) out.push(prefix(4));
    for (let length = 8; length <= parts.length; length += 2) out.push(prefix(length));
    return out;
  }

  #mgChain(name: string | null): string[] {
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let current = name; current && !seen.has(current); current = this.#mgParent.get(current) ?? null) {
      seen.add(current);
      chain.push(`${MG_PREFIX}${current}`);
    }
    return chain;
  }
}
