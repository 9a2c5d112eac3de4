import { odata, RestError, type TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { eventRecordSchema, findingSchema, type EventRecord, type Finding } from "../model/finding.js";
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { assignmentKey, findingsPartition, ledgerPartition, sanitizeKey, scopeOfAssignmentId, STATE_ROW_PREFIX, stateRowKey } from "../findings/keys.js";
import type { AssignmentRecord, AssignmentState, EventLedger, FindingsStore, ListFindingsOptions, PartitionRecord, PendingAlert } from "../findings/store.js";
import { StoreCorruptError } from "../errors.js";
import { ensureTable } from "./tables.js";

const MAX_BATCH = 100; // Table Storage: at most 100 entities per transaction, one partition.

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
export class TableFindingsStore implements FindingsStore {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
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

  async read(assignmentId: string): Promise<AssignmentRecord> {
    await this.#ensure();
    const partition = findingsPartition(scopeOfAssignmentId(assignmentId));
    const filter = `${odata`PartitionKey eq ${partition}`} and ${odata`assignmentKey eq ${assignmentKey(assignmentId)}`}`;
    const versions = new Map<string, string>();
    const findings: Finding[] = [];
    let state: AssignmentState | null = null;
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      versions.set(entity.rowKey ?? "", entity.etag);
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

  async commit(record: AssignmentRecord, change: { readonly state: AssignmentState; readonly findings: readonly Finding[] }): Promise<boolean> {
    await this.#ensure();
    const partition = findingsPartition(scopeOfAssignmentId(record.assignmentId));
    const key = assignmentKey(record.assignmentId);
    const stored = new Map(record.findings.map((f) => [f.id, f]));
    const write = (rowKey: string, entity: Entity): TransactionAction => {
      const etag = record.versions.get(rowKey);
      return etag ? ["update", entity, "Replace", { etag }] : ["create", entity];
    };
    // The state row is always written: it is what makes two judgements of one assignment conflict.
    const stateRow = stateRowKey(record.assignmentId);
    const actions: TransactionAction[] = [write(stateRow, { partitionKey: partition, rowKey: stateRow, assignmentKey: key, assignmentId: record.assignmentId, lastEventTime: change.state.lastEventTime, ...(change.state.deletedAt ? { deletedAt: change.state.deletedAt } : {}) })];
    for (const finding of change.findings) {
      if (findingsPartition(finding.scope) !== partition || assignmentKey(finding.assignmentId) !== key) throw new TypeError(`finding ${finding.id} is not about ${record.assignmentId}`);
      const before = stored.get(finding.id);
      if (before && isDeepStrictEqual(before, finding)) continue;
      actions.push(write(finding.id, { ...toEntity(partition, finding.id, finding, FINDING_JSON), assignmentKey: key }));
    }
    try {
      // One transaction holds 100 entities; a larger judgement is written in steps, each entity still conditional.
      for (let i = 0; i < actions.length; i += MAX_BATCH) await this.client.submitTransaction(actions.slice(i, i + MAX_BATCH));
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409)) return false; // written meanwhile
      throw error;
    }
  }

  async readPartition(partition: string): Promise<PartitionRecord> {
    await this.#ensure();
    const filter = `${odata`PartitionKey eq ${partition}`} and ${odata`RowKey lt ${"~"}`}`;
    const versions = new Map<string, string>();
    const findings: Finding[] = [];
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      versions.set(entity.rowKey ?? "", entity.etag);
      findings.push(this.#parse(entity));
    }
    return { partition, findings, versions };
  }

  async commitPartition(record: PartitionRecord, findings: readonly Finding[]): Promise<boolean> {
    await this.#ensure();
    const actions: TransactionAction[] = findings.map((finding) => {
      if (findingsPartition(finding.scope) !== record.partition) throw new TypeError(`finding ${finding.id} is not in partition ${record.partition}`);
      const entity = { ...toEntity(record.partition, finding.id, finding, FINDING_JSON), assignmentKey: assignmentKey(finding.assignmentId) };
      const etag = record.versions.get(finding.id);
      return etag ? ["update", entity, "Replace", { etag }] : ["create", entity];
    });
    try {
      for (let i = 0; i < actions.length; i += MAX_BATCH) await this.client.submitTransaction(actions.slice(i, i + MAX_BATCH));
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409)) return false; // written meanwhile
      throw error;
    }
  }

  async pendingAlert(finding: Pick<Finding, "id" | "scope">): Promise<PendingAlert | null> {
    await this.#ensure();
    let entity;
    try {
      entity = await this.client.getEntity<Record<string, unknown>>(findingsPartition(finding.scope), finding.id);
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return null;
      throw error;
    }
    const stored = this.#parse(entity);
    // The service's own Timestamp says when the entity was last written.
    return stored.alertPending ? { finding: stored, version: entity.etag, writtenAt: new Date(entity.timestamp ?? Date.now()) } : null;
  }

  async clearAlertPending(pending: PendingAlert): Promise<boolean> {
    await this.#ensure();
    try {
      await this.client.updateEntity({ partitionKey: findingsPartition(pending.finding.scope), rowKey: pending.finding.id, alertPending: false }, "Merge", { etag: pending.version });
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 404)) return false; // changed meanwhile: stays pending
      throw error;
    }
  }
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
