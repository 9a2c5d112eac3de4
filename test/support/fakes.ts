import type { Principals, RoleAssignments, RoleDefinitions } from "../../shared/facts/sources.js";
import type { AssignmentRecord, AssignmentState, EventLedger, FindingsStore, ListFindingsOptions, ListPendingAlertsOptions, PartitionRecord, PendingAlert } from "../../shared/findings/store.js";
import { findingsPartition } from "../../shared/findings/keys.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../../shared/model/access.js";
import type { EventRecord, Finding } from "../../shared/model/finding.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { loadConfig, type ResponseConfig } from "../../shared/config.js";
import type { Alert } from "../../shared/response/alert.js";
import type { AlertDeliveries, Delivery, DeliveryChange } from "../../shared/response/deliveries.js";
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
  /** The outbox marker of each finding's pending change: its version, claim, and whether it was handed over before. */
  readonly #markers = new Map<string, { version: number; claimedUntil: Date | null; handed: boolean }>();
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
    for (const f of change.findings) this.#write(f);
    return true;
  }

  /** Stores a finding and keeps its outbox marker, as the table store does. */
  #write(f: Finding): void {
    const before = this.findings.get(f.id);
    const sameChange = before !== undefined && before.alertTransition === f.alertTransition && before.alertAt === f.alertAt;
    const marker = this.#markers.get(f.id);
    // A new change is a new marker; the same change stored again keeps its marker's claim.
    if (!f.alertPending) this.#markers.delete(f.id);
    else if (marker && sameChange && before?.alertPending) this.#markers.set(f.id, { ...marker, version: marker.version + 1 });
    else this.#markers.set(f.id, { version: (marker?.version ?? 0) + 1, claimedUntil: null, handed: sameChange && before?.alertPending === false });
    this.writes += 1;
    this.findings.set(f.id, structuredClone(f));
    this.writtenAt.set(f.id, new Date());
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
        this.#write(f);
        this.#versions.set(f.id, (this.#versions.get(f.id) ?? 0) + 1);
      }
    }
    return true;
  }

  async listPartitions(): Promise<string[]> {
    return [...new Set([...this.findings.values()].map((f) => findingsPartition(f.scope)))].sort();
  }

  async listPendingAlerts(options: ListPendingAlertsOptions = {}): Promise<PendingAlert[]> {
    const assignments = options.assignmentIds ? new Set(options.assignmentIds.map((id) => id.toLowerCase())) : null;
    return [...this.findings.values()]
      .filter((f) => f.alertPending && (!assignments || assignments.has(f.assignmentId.toLowerCase())))
      .slice(0, options.limit ?? Number.POSITIVE_INFINITY)
      .map((f) => {
        const marker = this.#markers.get(f.id) ?? { version: 0, claimedUntil: null, handed: false };
        return { finding: structuredClone(f), version: String(marker.version), writtenAt: this.writtenAt.get(f.id) ?? new Date(), claimedUntil: marker.claimedUntil, mayBeRecorded: marker.handed || marker.claimedUntil !== null };
      });
  }

  async claimAlerts(pending: readonly PendingAlert[], until: Date): Promise<PendingAlert[]> {
    const claimed: PendingAlert[] = [];
    for (const p of pending) {
      const marker = this.#markers.get(p.finding.id);
      if (!marker || String(marker.version) !== p.version) continue;
      this.#markers.set(p.finding.id, { ...marker, version: marker.version + 1, claimedUntil: until });
      claimed.push({ ...p, version: String(marker.version + 1), claimedUntil: until });
    }
    return claimed;
  }

  async clearAlertsPending(pending: readonly PendingAlert[]): Promise<ReadonlySet<string>> {
    const cleared = new Set<string>();
    for (const p of pending) {
      // As the table store: cleared while the same state change is pending (a newer one stays).
      const current = this.findings.get(p.finding.id);
      if (!current?.alertPending || current.alertTransition !== p.finding.alertTransition || current.alertAt !== p.finding.alertAt) continue;
      this.findings.set(p.finding.id, { ...current, alertPending: false });
      this.#versions.set(p.finding.id, (this.#versions.get(p.finding.id) ?? 0) + 1);
      this.#markers.delete(p.finding.id);
      cleared.add(p.finding.id);
    }
    return cleared;
  }
}

/** Deliveries in a Map, with the table's semantics: create only what is absent, claim what is due once. */
export class InMemoryAlertDeliveries implements AlertDeliveries {
  readonly rows = new Map<string, Delivery>();
  /** Set to make the next create or update throw (a storage outage). */
  failNext: Error | null = null;

  #check(): void {
    const error = this.failNext;
    this.failNext = null;
    if (error) throw error;
  }

  /** Four batches, by the finding (as the table groups by its assignment). */
  batchKey(delivery: Pick<Delivery, "findingId" | "alertId">): string {
    return String((delivery.findingId ?? delivery.alertId).length % 4);
  }

  async create(deliveries: readonly Delivery[]): Promise<Delivery[]> {
    this.#check();
    const created: Delivery[] = [];
    for (const d of deliveries) {
      const key = `${d.alertId}|${d.channel}`;
      if (this.rows.has(key)) continue;
      this.rows.set(key, structuredClone(d));
      created.push(d);
    }
    return created;
  }

  async claimDue(options: { readonly now: Date; readonly leaseUntil: Date; readonly limit: number }): Promise<Delivery[]> {
    const due = [...this.rows.values()].filter((d) => d.status === "pending" && d.nextAttemptAt <= options.now.toISOString()).slice(0, options.limit);
    return due.map((d) => {
      const claimed = { ...d, nextAttemptAt: options.leaseUntil.toISOString() };
      this.rows.set(`${d.alertId}|${d.channel}`, claimed);
      return structuredClone(claimed);
    });
  }

  async update(changes: readonly DeliveryChange[]): Promise<void> {
    this.#check();
    for (const { previous, next } of changes) {
      const key = `${previous.alertId}|${previous.channel}`;
      const current = this.rows.get(key);
      // A delivery another claimer moved meanwhile keeps that claimer's state.
      if (!current || current.status !== previous.status || current.nextAttemptAt !== previous.nextAttemptAt) continue;
      this.rows.set(key, structuredClone(next));
    }
  }

  async listExisting(deliveries: readonly Delivery[]): Promise<Delivery[]> {
    return deliveries.flatMap((d) => {
      const stored = this.rows.get(`${d.alertId}|${d.channel}`);
      return stored ? [structuredClone(stored)] : [];
    });
  }

  async listDigest(): Promise<Delivery[]> {
    return this.list({ status: "digest" });
  }

  async list(options: { readonly status?: Delivery["status"] } = {}): Promise<Delivery[]> {
    return [...this.rows.values()].filter((d) => !options.status || d.status === options.status).map((d) => structuredClone(d));
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
