import type { RoleAssignments, RoleDefinitions } from "../../shared/azure/arm.js";
import type { Principals } from "../../shared/azure/graph.js";
import type { EventLedger, FindingsStore, ListFindingsOptions } from "../../shared/findings/store.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../../shared/model/access.js";
import type { EventRecord, Finding } from "../../shared/model/finding.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { loadConfig, type ResponseConfig } from "../../shared/config.js";
import type { Alert } from "../../shared/response/alert.js";
import { ARMED, type Breaker, type Revocation, type RevocationStore } from "../../shared/response/revocations.js";
import type { RevocationDependencies } from "../../shared/response/revoke.js";

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
        (!options.subscriptionId || f.subscriptionId === options.subscriptionId.toLowerCase()) &&
        (options.alertPending === undefined || f.alertPending === options.alertPending),
    );
  }

  async clearAlertPending(finding: Finding): Promise<boolean> {
    const current = this.findings.get(finding.id);
    if (!current || !current.alertPending || current.alertTransition !== finding.alertTransition || current.alertAt !== finding.alertAt) return false;
    this.findings.set(finding.id, { ...current, alertPending: false });
    return true;
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

/** Revocation backups and the breaker in memory. */
export class InMemoryRevocations implements RevocationStore {
  readonly records = new Map<string, Revocation>();
  breaker: Breaker = ARMED;
  async get(id: string) {
    return this.records.get(id) ?? null;
  }
  async put(r: Revocation) {
    this.records.set(r.id, structuredClone(r));
  }
  async list(options: { readonly assignmentId?: string; readonly createdSince?: string } = {}) {
    return [...this.records.values()]
      .filter((r) => (!options.assignmentId || r.assignmentId.toLowerCase() === options.assignmentId.toLowerCase()) && (!options.createdSince || r.createdAt >= options.createdSince))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  async getBreaker() {
    return this.breaker;
  }
  async putBreaker(b: Breaker) {
    this.breaker = b;
  }
}

/** Revocation dependencies for unit tests: audit mode unless told otherwise, a writer that records deletes. */
export function revocationFakes(overrides: Partial<ResponseConfig> = {}): RevocationDependencies & { deleted: string[]; raised: Alert[]; store: InMemoryRevocations } {
  const deleted: string[] = [];
  const raised: Alert[] = [];
  const store = new InMemoryRevocations();
  return {
    deleted,
    raised,
    store,
    revocations: store,
    writer: {
      deleteById: async (id) => (deleted.push(id), "deleted"),
      create: async () => "created",
    },
    response: { ...loadConfig({ GRANTGUARD_TABLE_ENDPOINT: "https://unit.table.core.windows.net" }).response, ...overrides },
    selfPrincipalId: async () => "6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40",
    raise: async (alert) => void raised.push(alert),
    now: () => new Date("2026-11-22T00:00:00Z"),
  };
}
