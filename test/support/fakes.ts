import type { RoleAssignments, RoleDefinitions } from "../../shared/azure/arm.js";
import type { Principals } from "../../shared/azure/graph.js";
import type { EventLedger, FindingsStore, ListFindingsOptions } from "../../shared/findings/store.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../../shared/model/access.js";
import type { EventRecord, Finding } from "../../shared/model/finding.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";

/** In-memory adapters over a tenant snapshot, for unit tests of the use cases. */
export class FakeTenant {
  readonly assignments = new Map<string, RoleAssignment>();
  readonly definitions = new Map<string, RoleDefinition>();
  readonly principals = new Map<string, Principal>();

  constructor(snapshot: TenantSnapshot) {
    for (const a of snapshot.roleAssignments) this.assignments.set(a.id.toLowerCase(), roleAssignmentFromArm(a));
    for (const d of snapshot.roleDefinitions) this.definitions.set(d.name.toLowerCase(), roleDefinitionFromArm(d));
    for (const p of snapshot.principals) this.principals.set(p.id.toLowerCase(), p);
  }

  get roleAssignments(): RoleAssignments {
    return { getById: async (id) => this.assignments.get(id.toLowerCase()) ?? null };
  }

  get roleDefinitions(): RoleDefinitions {
    return { getById: async (id) => this.definitions.get(roleDefinitionGuid(id)) ?? null };
  }

  get directory(): Principals {
    return {
      getById: async (id) => this.principals.get(id.toLowerCase()) ?? null,
      listByIds: async (ids) => ids.flatMap((id) => this.principals.get(id.toLowerCase()) ?? []),
    };
  }
}

/** Findings in a Map, with the same filters as the table store. */
export class InMemoryFindingsStore implements FindingsStore {
  readonly findings = new Map<string, Finding>();
  writes = 0;

  async list(options: ListFindingsOptions = {}): Promise<Finding[]> {
    return [...this.findings.values()].filter(
      (f) =>
        (!options.assignmentId || f.assignmentId.toLowerCase() === options.assignmentId.toLowerCase()) &&
        (!options.status || f.status === options.status) &&
        (!options.principalId || f.principalId === options.principalId) &&
        (!options.subscriptionId || f.subscriptionId === options.subscriptionId.toLowerCase()),
    );
  }

  async upsert(findings: readonly Finding[]): Promise<void> {
    for (const f of findings) {
      this.writes += 1;
      this.findings.set(f.id, structuredClone(f));
    }
  }
}

/** The event ledger in an array. */
export class InMemoryLedger implements EventLedger {
  readonly records: EventRecord[] = [];

  async record(entry: EventRecord): Promise<void> {
    const index = this.records.findIndex((r) => r.eventId === entry.eventId);
    if (index >= 0) this.records[index] = entry;
    else this.records.push(entry);
  }

  async list(options: { readonly outcome?: EventRecord["outcome"] } = {}): Promise<EventRecord[]> {
    return this.records.filter((r) => !options.outcome || r.outcome === options.outcome);
  }
}
