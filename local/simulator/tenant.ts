import type { ArmRoleAssignment, ArmRoleDefinition, GraphDirectoryObject } from "../../shared/model/azure.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { ScopeHierarchy } from "../../shared/facts/hierarchy.js";
import { PimState } from "./pim.js";
import { ScopedMap, VersionedMap } from "./scopeIndex.js";

/** How long Graph keeps answering "not found" for a new principal (see README.md "Replication lag"). */
export interface ReplicationLag {
  /** Graph reads (by id or in getByIds) that miss it before it shows. */
  readonly reads?: number;
  /** Milliseconds from now before it shows. */
  readonly ms?: number;
}

/** The simulator's mutable copy of a tenant snapshot, indexed the way ARM and Graph look things up. */
export class TenantState {
  readonly tenantId: string;
  /** By id (lower case), and by scope for ARM's lists (see scopeIndex.ts). */
  readonly assignments = new ScopedMap<ArmRoleAssignment>((a) => a.properties.scope);
  readonly definitions = new VersionedMap<ArmRoleDefinition>();
  readonly principals = new Map<string, GraphDirectoryObject>();
  /** The workspace's log tables, rows with Log Analytics column names (what the query API reads). */
  readonly logs: TenantSnapshot["logs"];
  /** PIM's instances and requests; null when the snapshot has no PIM section (PIM unreadable: 403). */
  readonly pim: PimState | null;
  /** Subscriptions and management groups as the snapshot lists them (Resource Graph's `resourcecontainers`). */
  readonly subscriptions: TenantSnapshot["subscriptions"];
  readonly managementGroups: TenantSnapshot["managementGroups"];
  readonly #hierarchy: ScopeHierarchy;
  readonly #lag = new Map<string, { reads: number; visibleAt: number }>();

  constructor(snapshot: TenantSnapshot) {
    this.tenantId = snapshot.tenantId;
    this.logs = snapshot.logs;
    this.subscriptions = snapshot.subscriptions;
    this.managementGroups = snapshot.managementGroups;
    for (const a of snapshot.roleAssignments) this.assignments.set(a.id.toLowerCase(), structuredClone(a));
    for (const d of snapshot.roleDefinitions) this.definitions.set(d.name.toLowerCase(), structuredClone(d));
    for (const p of snapshot.principals) this.principals.set(p.id.toLowerCase(), structuredClone(p));
    this.pim = snapshot.roleAssignmentScheduleInstances === undefined ? null : new PimState(snapshot.roleAssignmentScheduleInstances, snapshot.roleAssignmentScheduleRequests, this.assignments.values());
    this.#hierarchy = new ScopeHierarchy(snapshot);
  }

  /** The scope and every scope above it, lower-cased: "/", management groups, subscription, group, resources. */
  ancestors(scope: string): string[] {
    return this.#hierarchy.ancestors(scope);
  }

  /** Adds a directory object that Graph shows only after `lag` (the directory writes it; Graph replicates). */
  addPrincipal(principal: GraphDirectoryObject, lag: ReplicationLag = {}): void {
    const id = principal.id.toLowerCase();
    this.principals.set(id, structuredClone(principal));
    if (lag.reads || lag.ms) this.#lag.set(id, { reads: lag.reads ?? 0, visibleAt: Date.now() + (lag.ms ?? 0) });
    else this.#lag.delete(id);
  }

  /** The object as Graph sees it now; each call is one Graph read, which counts toward a replication lag. */
  readPrincipal(id: string): GraphDirectoryObject | undefined {
    const key = id.toLowerCase();
    const principal = this.principals.get(key);
    if (!principal) return undefined;
    const lag = this.#lag.get(key);
    if (!lag) return principal;
    if (lag.reads > 0 || Date.now() < lag.visibleAt) {
      lag.reads = Math.max(0, lag.reads - 1);
      return undefined;
    }
    this.#lag.delete(key);
    return principal;
  }

  /** True when the directory has the object but Graph does not show it yet. */
  replicating(id: string): boolean {
    const lag = this.#lag.get(id.toLowerCase());
    return lag !== undefined && (lag.reads > 0 || Date.now() < lag.visibleAt);
  }
}
