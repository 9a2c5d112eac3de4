import type { Principals, RoleAssignments, RoleDefinitions } from "../../shared/facts/sources.js";
import type { AssignmentRecord, AssignmentState, EventLedger, FindingsStore, ListFindingsOptions, PartitionRecord, PendingAlert } from "../../shared/findings/store.js";
import { findingsPartition } from "../../shared/findings/keys.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../../shared/model/access.js";
import type { EventRecord, Finding } from "../../shared/model/finding.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { loadConfig, type ResponseConfig } from "../../shared/config.js";
import type { Alert } from "../../shared/response/alert.js";
import { ARMED, type Breaker, type Revocation, type RevocationStatus, type RevocationStore } from "../../shared/response/revocations.js";
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

/** Findings in a Map, with the same filters as the table store and the same conditional commit (a version per row). */
export class InMemoryFindingsStore implements FindingsStore {
  readonly findings = new Map<string, Finding>();
  readonly states = new Map<string, AssignmentState>();
  readonly #versions = new Map<string, number>();
  /** When each finding was last written (a test may move it back to age an announcement). */
  readonly writtenAt = new Map<string, Date>();
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

  async read(assignmentId: string): Promise<AssignmentRecord> {
    const key = assignmentId.toLowerCase();
    const findings = structuredClone(await this.list({ assignmentId }));
    const rows = [`state:${key}`, ...findings.map((f) => f.id)];
    const versions = new Map(rows.flatMap((row) => (this.#versions.has(row) ? [[row, String(this.#versions.get(row))] as const] : [])));
    return { assignmentId, state: this.states.get(key) ?? null, findings, versions };
  }

  async commit(record: AssignmentRecord, change: { readonly state: AssignmentState; readonly findings: readonly Finding[] }): Promise<boolean> {
    const key = record.assignmentId.toLowerCase();
    const rows = [`state:${key}`, ...change.findings.map((f) => f.id)];
    if (rows.some((row) => (record.versions.get(row) ?? "none") !== String(this.#versions.get(row) ?? "none"))) return false;
    for (const row of rows) this.#versions.set(row, (this.#versions.get(row) ?? 0) + 1);
    this.states.set(key, change.state);
    for (const f of change.findings) {
      this.writes += 1;
      this.findings.set(f.id, structuredClone(f));
      this.writtenAt.set(f.id, new Date());
    }
    return true;
  }

  /** Transactions submitted by commitPartition (each at most 100 findings of one partition). */
  readonly transactions: number[] = [];

  async readPartition(partition: string): Promise<PartitionRecord> {
    const findings = structuredClone([...this.findings.values()].filter((f) => findingsPartition(f.scope) === partition));
    return { partition, findings, versions: new Map(findings.map((f) => [f.id, String(this.#versions.get(f.id) ?? 0)])) };
  }

  async commitPartition(record: PartitionRecord, findings: readonly Finding[]): Promise<boolean> {
    for (let i = 0; i < findings.length; i += 100) {
      const batch = findings.slice(i, i + 100);
      if (batch.some((f) => findingsPartition(f.scope) !== record.partition)) throw new TypeError(`a finding is not in partition ${record.partition}`);
      if (batch.some((f) => (record.versions.get(f.id) ?? "none") !== (this.findings.has(f.id) ? String(this.#versions.get(f.id) ?? 0) : "none"))) return false;
      this.transactions.push(batch.length);
      for (const f of batch) {
        this.writes += 1;
        this.findings.set(f.id, structuredClone(f));
        this.#versions.set(f.id, (this.#versions.get(f.id) ?? 0) + 1);
        this.writtenAt.set(f.id, new Date());
      }
    }
    return true;
  }

  async pendingAlert(finding: Pick<Finding, "id" | "scope">): Promise<PendingAlert | null> {
    const stored = this.findings.get(finding.id);
    return stored?.alertPending ? { finding: structuredClone(stored), version: String(this.#versions.get(finding.id) ?? 0), writtenAt: this.writtenAt.get(finding.id) ?? new Date() } : null;
  }

  async clearAlertPending(pending: PendingAlert): Promise<boolean> {
    const current = this.findings.get(pending.finding.id);
    if (!current || String(this.#versions.get(pending.finding.id) ?? 0) !== pending.version) return false;
    this.findings.set(pending.finding.id, { ...current, alertPending: false });
    this.#versions.set(pending.finding.id, (this.#versions.get(pending.finding.id) ?? 0) + 1);
    return true;
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

/** Revocation backups and the breaker in memory (single-threaded, so every conditional write holds). */
export class InMemoryRevocations implements RevocationStore {
  readonly records = new Map<string, Revocation>();
  breaker: Breaker = ARMED;
  async get(id: string) {
    return structuredClone(this.records.get(id)) ?? null;
  }
  async create(r: Revocation) {
    const existing = this.records.get(r.id);
    if (existing) return structuredClone(existing);
    this.records.set(r.id, structuredClone(r));
    return r;
  }
  async transition(id: string, from: readonly RevocationStatus[], change: (current: Revocation) => Revocation) {
    const current = this.records.get(id);
    if (!current) return null;
    if (!from.includes(current.status)) return { changed: false, revocation: structuredClone(current) };
    const next = change(structuredClone(current));
    this.records.set(id, structuredClone(next));
    return { changed: true, revocation: next };
  }
  async list(options: { readonly assignmentId?: string; readonly createdSince?: string } = {}) {
    return [...this.records.values()]
      .filter((r) => (!options.assignmentId || r.assignmentId.toLowerCase() === options.assignmentId.toLowerCase()) && (!options.createdSince || r.createdAt >= options.createdSince))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  async getBreaker() {
    return this.breaker;
  }
  async updateBreaker<T>(change: (current: Breaker) => { readonly next: Breaker | null; readonly result: T }) {
    const { next, result } = change(this.breaker);
    if (next) this.breaker = next;
    return result;
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
