import { statusOf } from "../errors.js";
import { odata, RestError, type TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { eventRecordSchema, findingSchema, type EventRecord, type Finding } from "../model/finding.js";
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import {
  assignmentKey,
  findingsPartition,
  ledgerPartition,
  PARTITION_INDEX,
  partitionIndexRowKey,
  PENDING_ROW_END,
  PENDING_ROW_PREFIX,
  pendingRowKey,
  pendingRowPrefix,
  sanitizeKey,
  scopeOfAssignmentId,
  STATE_ROW_PREFIX,
  stateRowKey,
} from "../findings/keys.js";
import type { AssignmentRecord, AssignmentState, CommitOptions, EventLedger, FindingsStore, ListFindingsOptions, ListPendingAlertsOptions, PartitionRecord, PendingAlert } from "../findings/store.js";
import { StoreCorruptError } from "../errors.js";
import { mapConcurrently } from "../model/concurrency.js";
import { ensureTable } from "./tables.js";
import { findingChange } from "../audit/changes.js";
import type { TrailDrain, TrailMarker, TrailMarkerStore } from "../audit/trail.js";
import { afterCommitOf, TableTrailMarkers, trailMarkerAction, type AfterCommit } from "./auditTrailMarkers.js";
import type { FindingsFilter, FindingsPage, FindingsPageOptions, FindingsReader } from "../findings/query.js";
import { partitionOfFinding, queryFindingsPage, removeIndexEntries, writeIndexEntries, type IndexedChange } from "./findingsIndex.js";

const MAX_BATCH = 100; // Table Storage: at most 100 entities per transaction, one partition.
// Partitions read at once by the outbox's round (each one range read of its pending markers).
const PARTITION_READS_IN_FLIGHT = 8;

type Entity = TableEntity<Record<string, unknown>>;

// Table Storage drops null properties; JSON-valued fields are stored as strings.
function toEntity(partitionKey: string, rowKey: string, record: Record<string, unknown>, jsonFields: readonly string[]): Entity {
  const entity: Entity = { partitionKey, rowKey };
  for (const [key, value] of Object.entries(record)) {
    if (value === null || value === undefined) continue;
    entity[key] = jsonFields.includes(key) ? JSON.stringify(value) : value;
  }
  return entity;
}

function fromEntity(entity: Record<string, unknown>, fields: readonly string[], jsonFields: readonly string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const field of fields) {
    const value = entity[field];
    record[field] = value === undefined ? null : jsonFields.includes(field) && typeof value === "string" ? JSON.parse(value) : value;
  }
  return record;
}

const FINDING_FIELDS = Object.keys(findingSchema.shape);
const FINDING_JSON = ["matchedFacts"];
const EVENT_FIELDS = Object.keys(eventRecordSchema.shape);
const EVENT_JSON = ["findingIds", "evaluationErrors"];

/** Findings in Azure Table Storage, partitioned by subscription, written in conditional transactions of ≤100. */
export class TableFindingsStore implements FindingsStore, FindingsReader {
  readonly #ensure: () => Promise<void>;
  /** Partitions this instance has registered in the partition index (each is registered once, then never removed). */
  readonly #registered = new Set<string>();
  /** The audit trail's markers in this table: each finding's state change is promised to the trail in its own transaction. */
  readonly trailMarkers: TrailMarkerStore;
  readonly #afterCommit: AfterCommit;

  /** `options.trail` drains a commit's trail markers into the chain right after it (the timer drains what a crash leaves). */
  constructor(
    private readonly client: TableClient,
    options: { readonly trail?: TrailDrain } = {},
  ) {
    this.#ensure = ensureTable(client);
    this.trailMarkers = new TableTrailMarkers(client, () => this.listPartitions());
    this.#afterCommit = afterCommitOf(options.trail, this.trailMarkers);
  }

  #parse(entity: Record<string, unknown>): Finding {
    const parsed = findingSchema.safeParse(fromEntity(entity, FINDING_FIELDS, FINDING_JSON));
    if (!parsed.success) {
      throw new StoreCorruptError(`finding ${String(entity.partitionKey)}/${String(entity.rowKey)} in table ${this.client.tableName} is malformed: ${parsed.error.issues[0]?.message}`);
    }
    return parsed.data;
  }

  async list(options: ListFindingsOptions = {}): Promise<Finding[]> {
    await this.#ensure();
    // Assignment state rows share the partitions; they sort after every finding.
    const clauses: string[] = [odata`RowKey lt ${"~"}`];
    const partition = options.subscriptionId
      ? options.subscriptionId.toLowerCase()
      : options.assignmentId
        ? findingsPartition(scopeOfAssignmentId(options.assignmentId))
        : undefined;
    if (partition) clauses.push(odata`PartitionKey eq ${partition}`);
    if (options.assignmentId) clauses.push(odata`assignmentKey eq ${assignmentKey(options.assignmentId)}`);
    if (options.status) clauses.push(odata`status eq ${options.status}`);
    if (options.principalId) clauses.push(odata`principalId eq ${options.principalId}`);
    if (options.seenSince) clauses.push(odata`lastSeen ge ${options.seenSince}`);
    if (options.firstSeenBefore) clauses.push(odata`firstSeen lt ${options.firstSeenBefore}`);
    if (options.alertPending !== undefined) clauses.push(odata`alertPending eq ${options.alertPending}`);
    const findings: Finding[] = [];
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: clauses.join(" and ") } })) findings.push(this.#parse(entity));
    return findings;
  }

  async queryPage(filter: FindingsFilter, options: FindingsPageOptions): Promise<FindingsPage> {
    await this.#ensure();
    return queryFindingsPage(this.client, filter, options, (entity) => this.#parse(entity));
  }

  async get(findingId: string): Promise<Finding | null> {
    await this.#ensure();
    const partition = await partitionOfFinding(this.client, findingId);
    if (partition === null) return null;
    try {
      return this.#parse(await this.client.getEntity<Record<string, unknown>>(partition, findingId));
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return null;
      throw error;
    }
  }

  /** The finding an outbox marker holds (as JSON, in one or more parts). */
  #marker(entity: Record<string, unknown>): Finding {
    const parts = typeof entity.findingParts === "number" ? entity.findingParts : 1;
    const json = Array.from({ length: parts }, (_, i) => entity[i === 0 ? "finding" : `finding${i}`]).join("");
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      value = undefined;
    }
    const parsed = findingSchema.safeParse(value);
    if (!parsed.success) throw new StoreCorruptError(`outbox marker ${String(entity.partitionKey)}/${String(entity.rowKey)} in table ${this.client.tableName} is malformed: ${parsed.error.issues[0]?.message ?? "not JSON"}`);
    return parsed.data;
  }

  async read(assignmentId: string): Promise<AssignmentRecord> {
    await this.#ensure();
    const partition = findingsPartition(scopeOfAssignmentId(assignmentId));
    const filter = `${odata`PartitionKey eq ${partition}`} and ${odata`assignmentKey eq ${assignmentKey(assignmentId)}`}`;
    const versions = new Map<string, string>();
    const findings: Finding[] = [];
    let state: AssignmentState | null = null;
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      versions.set(entity.rowKey ?? "", entity.etag);
      // The assignment's outbox markers come back too: only their versions matter to a commit.
      if (entity.rowKey?.startsWith(PENDING_ROW_PREFIX)) continue;
      if (entity.rowKey?.startsWith(STATE_ROW_PREFIX)) {
        const parsed = stateSchema.safeParse(entity);
        if (!parsed.success) throw new StoreCorruptError(`assignment state ${partition}/${entity.rowKey} in table ${this.client.tableName} is malformed: ${parsed.error.issues[0]?.message}`);
        state = { lastEventTime: parsed.data.lastEventTime, deletedAt: parsed.data.deletedAt ?? null };
      } else {
        findings.push(this.#parse(entity));
      }
    }
    return { assignmentId, state, findings, versions };
  }

  async commit(record: AssignmentRecord, change: { readonly state: AssignmentState; readonly findings: readonly Finding[]; readonly actor?: string }): Promise<boolean> {
    await this.#ensure();
    const partition = findingsPartition(scopeOfAssignmentId(record.assignmentId));
    const key = assignmentKey(record.assignmentId);
    const stored = new Map(record.findings.map((f) => [f.id, f]));
    // The state row is always written: it is what makes two judgements of one assignment conflict.
    const stateRow = stateRowKey(record.assignmentId);
    const stateEtag = record.versions.get(stateRow);
    const stateEntity: Entity = { partitionKey: partition, rowKey: stateRow, assignmentKey: key, assignmentId: record.assignmentId, lastEventTime: change.state.lastEventTime, ...(change.state.deletedAt ? { deletedAt: change.state.deletedAt } : {}) };
    const groups: TransactionAction[][] = [[stateEtag ? ["update", stateEntity, "Replace", { etag: stateEtag }] : ["create", stateEntity]]];
    const markers: TrailMarker[] = [];
    const changes: IndexedChange[] = [];
    for (const finding of change.findings) {
      if (findingsPartition(finding.scope) !== partition || assignmentKey(finding.assignmentId) !== key) throw new TypeError(`finding ${finding.id} is not about ${record.assignmentId}`);
      const before = stored.get(finding.id);
      if (before && isDeepStrictEqual(before, finding)) continue;
      groups.push(withTrailMarker(partition, finding, before ?? null, findingWriteActions(partition, finding, before ?? null, record.versions), markers, change.actor));
      changes.push({ before: before ?? null, after: finding });
    }
    // The timer finds pending markers through the partition index: register before the first write.
    await this.#register(partition);
    // An event's commit writes the index entries of every finding it judged — changed or not — in the
    // same round trip as the commit itself: an entry a failed or killed try left out is written by the
    // redelivery Event Grid makes of the event (a failure here fails the invocation), so none stays missing.
    const [committed] = await Promise.all([this.#submit(groups), writeIndexEntries(this.client, partition, change.findings.map((after) => ({ before: null, after })))]);
    if (committed) await Promise.all([removeIndexEntries(this.client, changes), this.#afterCommit(markers)]);
    return committed;
  }

  /**
   * A partition's writes with their index entries — the new ones before (so none is ever missing,
   * whatever becomes of the run), the old ones removed after — and, once committed, the trail
   * markers drained into the chain.
   */
  async #submitIndexed(partition: string, groups: TransactionAction[][], changes: readonly IndexedChange[], markers: readonly TrailMarker[]): Promise<boolean> {
    await writeIndexEntries(this.client, partition, changes);
    if (!(await this.#submit(groups))) return false;
    await Promise.all([removeIndexEntries(this.client, changes), this.#afterCommit(markers)]);
    return true;
  }

  async #register(partition: string): Promise<void> {
    if (this.#registered.has(partition)) return;
    await this.client.upsertEntity({ partitionKey: PARTITION_INDEX, rowKey: partitionIndexRowKey(partition), partition }, "Replace");
    this.#registered.add(partition);
  }

  async readPartition(partition: string): Promise<PartitionRecord> {
    // Read without creating the table (a commit creates it), so a read-only caller — the command
    // line's dry-run sweep with Storage Table Data Reader — may read.
    const versions = new Map<string, string>();
    const findings: Finding[] = [];
    // One query for the findings and, beside them, the versions of the partition's outbox markers
    // (which a commit keeps): every row below the markers' end, the assignment state rows between
    // them skipped. One request per partition instead of two, whatever the store's query costs.
    const filter = `${odata`PartitionKey eq ${partition}`} and ${odata`RowKey lt ${PENDING_ROW_END}`}`;
    try {
      for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        const rowKey = entity.rowKey ?? "";
        if (rowKey < "~") {
          versions.set(rowKey, entity.etag);
          findings.push(this.#parse(entity));
        } else if (rowKey >= PENDING_ROW_PREFIX) versions.set(rowKey, entity.etag);
      }
    } catch (error) {
      // No table yet: nothing was ever written.
      if (statusOf(error) === 404) return { partition, findings: [], versions: new Map() };
      throw error;
    }
    return { partition, findings, versions };
  }

  async commitPartition(record: PartitionRecord, findings: readonly Finding[], options: CommitOptions = {}): Promise<boolean> {
    // Nothing changed (a steady sweep's usual partition): no request at all, not even the index's.
    if (findings.length === 0) return true;
    await this.#ensure();
    const stored = new Map(record.findings.map((f) => [f.id, f]));
    const markers: TrailMarker[] = [];
    const groups = findings.map((finding) => {
      if (findingsPartition(finding.scope) !== record.partition) throw new TypeError(`finding ${finding.id} is not in partition ${record.partition}`);
      const before = stored.get(finding.id) ?? null;
      return withTrailMarker(record.partition, finding, before, findingWriteActions(record.partition, finding, before, record.versions), markers, options.actor);
    });
    await this.#register(record.partition);
    return this.#submitIndexed(record.partition, groups, findings.map((after) => ({ before: stored.get(after.id) ?? null, after })), markers);
  }

  /**
   * Submits conditional writes in transactions of at most 100 entities, a finding never apart
   * from its outbox marker; false when something was written meanwhile (412/409, or 404: a
   * superseded marker this write deletes was cleared meanwhile).
   */
  async #submit(groups: Parameters<typeof packGroups>[0]): Promise<boolean> {
    try {
      for (const batch of packGroups(groups, MAX_BATCH)) await this.client.submitTransaction(batch);
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409 || error.statusCode === 404)) return false;
      throw error;
    }
  }

  /** The partitions that hold (or held) findings, from the partition index. */
  async listPartitions(): Promise<string[]> {
    const partitions: string[] = [];
    const filter = odata`PartitionKey eq ${PARTITION_INDEX}`;
    try {
      for await (const entity of this.client.listEntities<{ partition?: unknown }>({ queryOptions: { filter, select: ["partition"] } })) {
        if (typeof entity.partition === "string") partitions.push(entity.partition);
      }
    } catch (error) {
      // No table yet: nothing was ever written (read without creating it, so a reader may ask).
      if (statusOf(error) === 404) return [];
      throw error;
    }
    return partitions;
  }

  async listPendingAlerts(options: ListPendingAlertsOptions = {}): Promise<PendingAlert[]> {
    await this.#ensure();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    // Each range holds markers only: what a read costs grows with the pending changes, never with the findings.
    type Range = { partition: string; from: string; to: string; only?: ReadonlySet<string> };
    const ranges: Range[] = options.assignmentIds ? assignmentRanges(options.assignmentIds) : (await this.listPartitions()).map((partition) => ({ partition, from: PENDING_ROW_PREFIX, to: PENDING_ROW_END }));
    const found: PendingAlert[] = [];
    await mapConcurrently(ranges, PARTITION_READS_IN_FLIGHT, async ({ partition, from, to, only }) => {
      if (found.length >= limit) return;
      const filter = `${odata`PartitionKey eq ${partition}`} and ${odata`RowKey ge ${from}`} and ${odata`RowKey lt ${to}`}`;
      for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        if (found.length >= limit) return;
        if (only && !only.has(String(entity.assignmentKey))) continue;
        const claimedUntil = typeof entity.claimedUntil === "string" ? new Date(entity.claimedUntil) : null;
        found.push({ finding: this.#marker(entity), version: entity.etag, writtenAt: new Date(entity.timestamp ?? Date.now()), claimedUntil, mayBeRecorded: claimedUntil !== null || entity.handed === true });
      }
    });
    return found;
  }

  async claimAlerts(pending: readonly PendingAlert[], until: Date): Promise<PendingAlert[]> {
    await this.#ensure();
    const claimedUntil = until.toISOString();
    const batches = [...byPartition(pending)].flatMap(([partition, items]) => chunk(items, MAX_BATCH).map((batch) => ({ partition, batch })));
    const claim = async (partition: string, batch: readonly PendingAlert[]): Promise<PendingAlert[]> => {
      try {
        // A Merge: whatever else the marker holds stays; only the version read may be claimed.
        const response = await this.client.submitTransaction(batch.map((p): TransactionAction => ["update", { partitionKey: partition, rowKey: pendingRowKey(p.finding), claimedUntil }, "Merge", { etag: p.version }]));
        return batch.map((p, i) => ({ ...p, version: response.subResponses[i]?.etag ?? p.version, claimedUntil: until }));
      } catch (error) {
        if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 404)) return []; // claimed, rewritten or cleared meanwhile
        throw error;
      }
    };
    const claimed = await mapConcurrently(batches, PARTITION_READS_IN_FLIGHT, async ({ partition, batch }) => {
      const all = await claim(partition, batch);
      if (all.length > 0 || batch.length === 1) return all;
      // One of them was taken: the others one by one.
      const alone = await mapConcurrently(batch, 1, (p) => claim(partition, [p]));
      return alone.flat();
    });
    return claimed.flat();
  }

  async clearAlertsPending(pending: readonly PendingAlert[]): Promise<ReadonlySet<string>> {
    await this.#ensure();
    const cleared = new Set<string>();
    const batches = [...byPartition(pending)].flatMap(([partition, items]) => chunk(items, MAX_BATCH / 2).map((batch) => ({ partition, batch })));
    await mapConcurrently(batches, PARTITION_READS_IN_FLIGHT, async ({ partition, batch }) => {
      // All at once; if one of them changed meanwhile the transaction fails, and each is cleared on its own.
      if (await this.#clear(partition, batch)) for (const p of batch) cleared.add(p.finding.id);
      else if (batch.length > 1) for (const p of batch) if (await this.#clear(partition, [p])) cleared.add(p.finding.id);
    });
    return cleared;
  }

  /**
   * Deletes each change's marker and clears its finding's flag, in one transaction per partition
   * (up to 50 changes). The marker must still be there: a newer change of the finding has replaced
   * it (a commit deletes the marker of the change it supersedes), or another instance cleared it,
   * and then the transaction fails and leaves everything as it is. A rewrite of the same change
   * (the same marker) is cleared with it: its deliveries exist already.
   */
  async #clear(partition: string, batch: readonly PendingAlert[]): Promise<boolean> {
    const actions = batch.flatMap((p): TransactionAction[] => [
      ["delete", { partitionKey: partition, rowKey: pendingRowKey(p.finding) }],
      ["update", { partitionKey: partition, rowKey: p.finding.id, alertPending: false }, "Merge"],
    ]);
    try {
      await this.client.submitTransaction(actions);
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 404 || error.statusCode === 412)) return false; // superseded or cleared meanwhile
      throw error;
    }
  }
}

/**
 * The transaction actions that write one finding (conditional on the version read, else
 * created) and keep its outbox marker: the marker of its pending state change, holding a copy of
 * the finding, written with it; the marker of a pending change it supersedes, deleted. A rewrite of
 * the same change merges the copy into the marker, so a dispatcher's claim on it holds. Every
 * writer of findings must write these together, in one transaction, from a record read with
 * `read`: the outbox's timer finds pending changes through the markers alone.
 */
export function findingWriteActions(partition: string, finding: Finding, before: Finding | null, versions: ReadonlyMap<string, string>): TransactionAction[] {
  const etag = versions.get(finding.id);
  const entity: Entity = { ...toEntity(partition, finding.id, finding, FINDING_JSON), assignmentKey: assignmentKey(finding.assignmentId) };
  const actions: TransactionAction[] = [etag ? ["update", entity, "Replace", { etag }] : ["create", entity]];
  const superseded = before?.alertPending ? pendingRowKey(before) : null;
  const current = finding.alertPending ? pendingRowKey(finding) : null;
  if (superseded && superseded !== current && versions.has(superseded)) actions.push(["delete", { partitionKey: partition, rowKey: superseded }]);
  if (current) {
    // The same change stored again after it was handed over: its deliveries may exist already.
    const handed = before !== null && !before.alertPending && before.alertTransition === finding.alertTransition && before.alertAt === finding.alertAt;
    const marker = markerEntity(partition, current, finding, handed);
    const markerEtag = versions.get(current);
    actions.push(markerEtag ? ["update", marker, "Merge", { etag: markerEtag }] : ["create", marker]);
  }
  return actions;
}

/**
 * A finding's write actions plus, when its state changed (not only its observations), the marker
 * promising the change to the audit trail, in the same group: one transaction writes both.
 */
function withTrailMarker(partition: string, finding: Finding, before: Finding | null, actions: TransactionAction[], markers: TrailMarker[], actor: string | undefined): TransactionAction[] {
  const entry = findingChange(before, finding, new Date().toISOString(), actor);
  if (!entry) return actions;
  const { action, marker } = trailMarkerAction(partition, entry);
  markers.push(marker);
  return [...actions, action];
}

// A string property holds at most 32K UTF-16 code units; a finding's JSON is split into parts below that.
const MARKER_PART_CHARS = 30_000;

/**
 * An outbox marker: the finding as JSON (in parts when long; `findingParts` says how many count),
 * so that a Merge replaces it whole, nulls included, and leaves a claim in place.
 */
function markerEntity(partition: string, rowKey: string, finding: Finding, handed: boolean): Entity {
  const json = JSON.stringify(finding);
  const parts: string[] = [];
  for (let i = 0; i < json.length; ) {
    let end = Math.min(json.length, i + MARKER_PART_CHARS);
    // Never cut a surrogate pair in half: a lone surrogate cannot be stored.
    if (end < json.length && /[\ud800-\udbff]/.test(json.charAt(end - 1))) end -= 1;
    parts.push(json.slice(i, end));
    i = end;
  }
  const entity: Entity = { partitionKey: partition, rowKey, assignmentKey: assignmentKey(finding.assignmentId), findingParts: parts.length, ...(handed ? { handed: true } : {}) };
  for (const [i, part] of parts.entries()) entity[i === 0 ? "finding" : `finding${i}`] = part;
  return entity;
}

/** Pending changes by the findings partition they are in. */
function byPartition(pending: readonly PendingAlert[]): Map<string, PendingAlert[]> {
  const partitions = new Map<string, PendingAlert[]>();
  for (const p of pending) {
    const partition = findingsPartition(p.finding.scope);
    const list = partitions.get(partition);
    if (list) list.push(p);
    else partitions.set(partition, [p]);
  }
  return partitions;
}

// Past this many assignments in one partition, one read of the partition's markers is cheaper than one read each.
const ASSIGNMENT_RANGES_PER_PARTITION = 16;

/** The marker ranges of some assignments: one per assignment, or one per partition (filtered) when they are many there. */
function assignmentRanges(assignmentIds: readonly string[]): { partition: string; from: string; to: string; only?: ReadonlySet<string> }[] {
  const byPartition = new Map<string, Set<string>>();
  for (const id of assignmentIds) {
    const partition = findingsPartition(scopeOfAssignmentId(id));
    const keys = byPartition.get(partition) ?? new Set<string>();
    keys.add(assignmentKey(id));
    byPartition.set(partition, keys);
  }
  return [...byPartition].flatMap(([partition, keys]) => {
    if (keys.size > ASSIGNMENT_RANGES_PER_PARTITION) return [{ partition, from: PENDING_ROW_PREFIX, to: PENDING_ROW_END, only: keys }];
    return [...keys].map((key) => {
      const prefix = pendingRowPrefix(key);
      return { partition, from: prefix, to: `${prefix.slice(0, -1)}/` };
    });
  });
}

/** Packs groups of actions into transactions of at most `max`, never splitting a group. */
function packGroups(groups: readonly (readonly TransactionAction[])[], max: number): TransactionAction[][] {
  const batches: TransactionAction[][] = [];
  let current: TransactionAction[] = [];
  for (const group of groups) {
    if (current.length + group.length > max) {
      batches.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

const stateSchema = z.object({ lastEventTime: z.string(), deletedAt: z.string().optional() });

/** The event ledger in Table Storage: one row per event id and day of receipt. */
export class TableEventLedger implements EventLedger {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
  }

  /** Records one event's outcome; whatever the event held, the row fits Table Storage's limits. */
  async record(entry: EventRecord): Promise<void> {
    await this.#ensure();
    await this.client.upsertEntity(toEntity(ledgerPartition(entry.receivedAt), sanitizeKey(entry.eventId), storableRecord(entry), EVENT_JSON), "Replace");
  }

  async list(options: { readonly outcome?: EventRecord["outcome"] } = {}): Promise<EventRecord[]> {
    await this.#ensure();
    const filter = options.outcome ? odata`outcome eq ${options.outcome}` : undefined;
    const records: EventRecord[] = [];
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: filter ? { filter } : {} })) {
      const parsed = eventRecordSchema.safeParse(fromEntity(entity, EVENT_FIELDS, EVENT_JSON));
      if (!parsed.success) throw new StoreCorruptError(`event record ${entity.partitionKey}/${entity.rowKey} is malformed: ${parsed.error.issues[0]?.message}`);
      records.push(parsed.data);
    }
    return records.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }
}

// Table Storage: a string property holds at most 64 KiB (32 Ki UTF-16 code units) and an entity at
// most 1 MiB; the ten ledger fields at 32,000 characters each stay well inside both.
const MAX_PROPERTY_CHARS = 32_000;
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// Text a Table Storage string property accepts: lone surrogates and control characters replaced, long text cut with a marker.
function storable(text: string, max = MAX_PROPERTY_CHARS): string {
  const marker = `… [truncated from ${text.length} characters]`;
  const cut = text.length > max ? text.slice(0, max - marker.length) + marker : text;
  return cut.replace(UNSTORABLE, "\ufffd");
}

// A JSON list property that fits: its items as long as they fit, then a last item saying how many were left out.
function storableList<T>(items: readonly T[], leftOut: (count: number) => T): T[] {
  const kept: T[] = [];
  let length = 2;
  for (const [i, item] of items.entries()) {
    length += JSON.stringify(item).length + 1;
    if (length > MAX_PROPERTY_CHARS - 200) return [...kept, leftOut(items.length - i)];
    kept.push(item);
  }
  return kept;
}

function storableRecord(entry: EventRecord): EventRecord {
  const text = (value: string | null) => (value === null ? null : storable(value));
  return {
    eventId: storable(entry.eventId),
    receivedAt: entry.receivedAt,
    eventType: text(entry.eventType),
    eventTime: text(entry.eventTime),
    outcome: entry.outcome,
    reason: storable(entry.reason),
    assignmentId: text(entry.assignmentId),
    findingIds: storableList(entry.findingIds.map((id) => storable(id, 1_000)), (count) => `… ${count} more`),
    evaluationErrors: storableList(
      entry.evaluationErrors.map((e) => ({ policyId: storable(e.policyId, 1_000), message: storable(e.message, 2_000) })),
      (count) => ({ policyId: "…", message: `${count} more evaluation errors` }),
    ),
    correlationId: text(entry.correlationId),
  };
}
