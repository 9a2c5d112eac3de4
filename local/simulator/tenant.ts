import type { ArmRoleAssignment, ArmRoleDefinition, GraphDirectoryObject } from "../../shared/model/azure.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { ScopeHierarchy } from "../../shared/facts/hierarchy.js";


/** The simulator's mutable copy of a tenant snapshot, indexed the way ARM and Graph look things up. */
export class TenantState {
  readonly tenantId: string;
  readonly assignments = new Map<string, ArmRoleAssignment>();
  readonly definitions = new Map<string, ArmRoleDefinition>();
  readonly principals = new Map<string, GraphDirectoryObject>();
  /** PIM roleAssignmentScheduleInstances, served as they were exported; null when the snapshot has none (PIM unreadable). */
  readonly scheduleInstances: { properties: { scope: string; principalId: string } }[] | null;
  readonly #hierarchy: ScopeHierarchy;

  constructor(snapshot: TenantSnapshot) {
    this.tenantId = snapshot.tenantId;
    for (const a of snapshot.roleAssignments) this.assignments.set(a.id.toLowerCase(), structuredClone(a));
    for (const d of snapshot.roleDefinitions) this.definitions.set(d.name.toLowerCase(), structuredClone(d));
    for (const p of snapshot.principals) this.principals.set(p.id.toLowerCase(), structuredClone(p));
    this.scheduleInstances = snapshot.roleAssignmentScheduleInstances === undefined ? null : structuredClone(snapshot.roleAssignmentScheduleInstances).filter(
      (i): i is { properties: { scope: string; principalId: string } } & typeof i =>
        typeof (i as { properties?: { scope?: unknown; principalId?: unknown } }).properties?.scope === "string" && typeof (i as { properties?: { principalId?: unknown } }).properties?.principalId === "string",
    );
    this.#hierarchy = new ScopeHierarchy(snapshot);
  }

  /** The scope and every scope above it, lower-cased: "/", management groups, subscription, group, resources. */
  ancestors(scope: string): string[] {
    return this.#hierarchy.ancestors(scope);
  }
}
