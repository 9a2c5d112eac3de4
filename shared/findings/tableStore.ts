import { odata, RestError, type TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { eventRecordSchema, findingSchema, type EventRecord, type Finding } from "../model/finding.js";
import { findingsPartition, ledgerPartition, sanitizeKey, scopeOfAssignmentId } from "./keys.js";
import type { EventLedger, FindingsStore, ListFindingsOptions } from "./store.js";
import { GrantGuardError } from "../errors.js";
import { ensureTable } from "../azure/tables.js";

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

/** Findings in Azure Table Storage, partitioned by subscription, written in transactions of ≤100. */
export class TableFindingsStore implements FindingsStore {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
  }

  async list(options: ListFindingsOptions = {}): Promise<Finding[]> {
    await this.#ensure();
    const clauses: string[] = [];
    const partition = options.subscriptionId
      ? options.subscriptionId.toLowerCase()
      : options.assignmentId
        ? findingsPartition(scopeOfAssignmentId(options.assignmentId))
        : undefined;
    if (partition) clauses.push(odata`PartitionKey eq ${partition}`);
    if (options.assignmentId) clauses.push(odata`assignmentId eq ${options.assignmentId}`);
    if (options.status) clauses.push(odata`status eq ${options.status}`);
    if (options.principalId) clauses.push(odata`principalId eq ${options.principalId}`);
    if (options.seenSince) clauses.push(odata`lastSeen ge ${options.seenSince}`);
    if (options.firstSeenBefore) clauses.push(odata`firstSeen lt ${options.firstSeenBefore}`);
    if (options.alertPending !== undefined) clauses.push(odata`alertPending eq ${options.alertPending}`);
    const findings: Finding[] = [];
    const pages = this.client.listEntities<Record<string, unknown>>({ queryOptions: clauses.length ? { filter: clauses.join(" and ") } : {} });
    for await (const entity of pages) {
      const parsed = findingSchema.safeParse(fromEntity(entity, FINDING_FIELDS, FINDING_JSON));
      if (!parsed.success) {
        throw new GrantGuardError(`finding ${entity.partitionKey}/${entity.rowKey} in table ${this.client.tableName} is malformed: ${parsed.error.issues[0]?.message}`);
      }
      findings.push(parsed.data);
    }
    // Ids are case-insensitive in Azure: the OData filter is exact, so compare again without case.
    return options.assignmentId ? findings.filter((f) => f.assignmentId.toLowerCase() === options.assignmentId!.toLowerCase()) : findings;
  }

  async clearAlertPending(finding: Finding): Promise<boolean> {
    await this.#ensure();
    const partitionKey = findingsPartition(finding.scope);
    let current;
    try {
      current = await this.client.getEntity<Record<string, unknown>>(partitionKey, finding.id);
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return false;
      throw error;
    }
    if (current.alertTransition !== finding.alertTransition || current.alertAt !== finding.alertAt || current.alertPending !== true) return false;
    try {
      await this.client.updateEntity({ partitionKey, rowKey: finding.id, alertPending: false }, "Merge", { etag: current.etag });
      return true;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 412) return false; // changed meanwhile: stays pending
      throw error;
    }
  }

  async upsert(findings: readonly Finding[]): Promise<void> {
    if (findings.length === 0) return;
    await this.#ensure();
    const byPartition = new Map<string, TransactionAction[]>();
    for (const finding of findings) {
      const partition = findingsPartition(finding.scope);
      const actions = byPartition.get(partition) ?? [];
      actions.push(["upsert", toEntity(partition, finding.id, finding, FINDING_JSON), "Replace"]);
      byPartition.set(partition, actions);
    }
    for (const actions of byPartition.values()) {
      for (let i = 0; i < actions.length; i += MAX_BATCH) {
        await this.client.submitTransaction(actions.slice(i, i + MAX_BATCH));
      }
    }
  }
}

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
      if (!parsed.success) throw new GrantGuardError(`event record ${entity.partitionKey}/${entity.rowKey} is malformed: ${parsed.error.issues[0]?.message}`);
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
