import { createHash } from "node:crypto";
import { odata, RestError, type TableClient, type TransactionAction } from "@azure/data-tables";
import { auditRecordSchema, chainEntries, EMPTY_HEAD, type AuditEntry, type AuditRecord, type ChainHead } from "../audit/record.js";
import type { AppendResult, AuditChain, AuditPage } from "../audit/trail.js";
import { ConcurrentChangeError, StoreCorruptError } from "../errors.js";
import { mapConcurrently } from "../model/concurrency.js";
import { jsonColumns, readJsonColumns } from "./auditTrailMarkers.js";
import { ensureTable } from "./tables.js";

// The chain lives in one partition, so the head and the records appended after it are one
// transaction: the head row is rewritten conditionally on its ETag in every append, which makes
// concurrent appenders take turns (the loser reads the new head and tries again). Beside each
// record, an index row keyed by the entry's own id makes a second append of the same change fail
// (409) instead of making a second record. A transaction holds at most 100 entities: the head,
// then 49 records with their 49 index rows.
const PARTITION = "chain";
const HEAD_ROW = "head";
const RECORD_PREFIX = "r.";
const RECORD_END = "r/";
const INDEX_PREFIX = "i.";
/** Records per append transaction (with their index rows and the head: 99 entities). */
export const RECORDS_PER_APPEND = 49;
const MAX_TRIES = 60;
const INDEX_READS_IN_FLIGHT = 16;

/** The RowKey of record `seq`: zero-padded, so RowKey order is sequence order. */
export const recordRowKey = (seq: number) => `${RECORD_PREFIX}${String(seq).padStart(12, "0")}`;
const indexRowKey = (id: string) => `${INDEX_PREFIX}${createHash("sha256").update(id, "utf8").digest("hex")}`;
const isConflict = (error: unknown) => error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);

type Row = Record<string, unknown>;

/** The audit trail's hash chain in Table Storage: one partition, a head row, records and their id index. */
export class TableAuditChain implements AuditChain {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
  }

  async #readHead(): Promise<{ head: ChainHead; etag: string | null }> {
    try {
      const row = await this.client.getEntity<Row>(PARTITION, HEAD_ROW);
      if (typeof row.seq !== "number" || typeof row.hash !== "string") throw new StoreCorruptError(`the audit chain's head in table ${this.client.tableName} is malformed`);
      return { head: { seq: row.seq, hash: row.hash }, etag: row.etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return { head: EMPTY_HEAD, etag: null };
      throw error;
    }
  }

  async head(): Promise<ChainHead> {
    await this.#ensure();
    return (await this.#readHead()).head;
  }

  /** Which of these ids the chain holds already. */
  async #present(ids: readonly string[]): Promise<Set<string>> {
    const present = new Set<string>();
    await mapConcurrently(ids, INDEX_READS_IN_FLIGHT, async (id) => {
      try {
        await this.client.getEntity(PARTITION, indexRowKey(id), { queryOptions: { select: ["seq"] } });
        present.add(id);
      } catch (error) {
        if (!(error instanceof RestError && error.statusCode === 404)) throw error;
      }
    });
    return present;
  }

  async append(entries: readonly AuditEntry[]): Promise<AppendResult> {
    await this.#ensure();
    // One change is one record, however often it is handed in.
    const unique = [...new Map(entries.map((e) => [e.id, e])).values()];
    const appended: AuditRecord[] = [];
    let duplicates = entries.length - unique.length;
    for (let i = 0; i < unique.length; i += RECORDS_PER_APPEND) {
      const result = await this.#appendBatch(unique.slice(i, i + RECORDS_PER_APPEND));
      appended.push(...result.appended);
      duplicates += result.duplicates;
    }
    return { appended, duplicates };
  }

  async #appendBatch(batch: readonly AuditEntry[]): Promise<AppendResult> {
    let checkIndex = false;
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const { head, etag } = await this.#readHead();
      // After a conflict, some entries may be in the chain already (another instance drained the
      // same markers): read after the head, so an append that lands conditional on it is exact.
      const present = checkIndex ? await this.#present(batch.map((e) => e.id)) : new Set<string>();
      const fresh = batch.filter((e) => !present.has(e.id));
      if (fresh.length === 0) return { appended: [], duplicates: batch.length };
      const records = chainEntries(head, fresh);
      const last = records[records.length - 1] as AuditRecord;
      const headRow = { partitionKey: PARTITION, rowKey: HEAD_ROW, seq: last.seq, hash: last.hash };
      const actions: TransactionAction[] = [etag ? ["update", headRow, "Replace", { etag }] : ["create", headRow]];
      for (const r of records) {
        actions.push(["create", { partitionKey: PARTITION, rowKey: recordRowKey(r.seq), ...r, ...jsonColumns("data", r.data) }]);
        actions.push(["create", { partitionKey: PARTITION, rowKey: indexRowKey(r.id), seq: r.seq }]);
      }
      try {
        await this.client.submitTransaction(actions);
        return { appended: records, duplicates: batch.length - fresh.length };
      } catch (error) {
        if (!isConflict(error)) throw error;
        checkIndex = true;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 10)));
      }
    }
    throw new ConcurrentChangeError(`the audit chain kept changing under ${MAX_TRIES} concurrent appends`);
  }

  async list(options: { readonly fromSeq: number; readonly limit: number }): Promise<AuditPage> {
    await this.#ensure();
    const records: AuditRecord[] = [];
    for await (const record of this.#rows(options.fromSeq, null, options.limit + 1)) {
      records.push(this.#parse(record));
      if (records.length > options.limit) break;
    }
    const more = records.length > options.limit;
    const page = more ? records.slice(0, options.limit) : records;
    return { records: page, nextSeq: more ? (records[options.limit] as AuditRecord).seq : null };
  }

  async *read(options: { readonly fromSeq?: number; readonly toSeq?: number } = {}): AsyncIterable<AuditRecord> {
    await this.#ensure();
    // As stored: a row that does not parse is handed on raw, so verification names it instead of failing.
    for await (const row of this.#rows(options.fromSeq ?? 1, options.toSeq ?? null)) yield this.#asStored(row) as AuditRecord;
  }

  async *#rows(fromSeq: number, toSeq: number | null, pageSize?: number): AsyncIterable<Row> {
    const filter = [odata`PartitionKey eq ${PARTITION}`, odata`RowKey ge ${recordRowKey(Math.max(1, fromSeq))}`, toSeq === null ? odata`RowKey lt ${RECORD_END}` : odata`RowKey le ${recordRowKey(toSeq)}`].join(" and ");
    const pages = this.client.listEntities<Row>({ queryOptions: { filter } }).byPage(pageSize ? { maxPageSize: Math.min(pageSize, 1000) } : {});
    for await (const page of pages) for (const row of page) yield row;
  }

  #asStored(row: Row): unknown {
    let data: unknown = readJsonColumns(row, "data");
    try {
      if (typeof data === "string") data = JSON.parse(data);
    } catch {
      // left as the string it is: it will not verify
    }
    return { seq: row.seq, id: row.id, kind: row.kind, at: row.at, actor: row.actor, subject: row.subject, data, previousHash: row.previousHash, hash: row.hash };
  }

  #parse(row: Row): AuditRecord {
    const parsed = auditRecordSchema.safeParse(this.#asStored(row));
    if (!parsed.success) throw new StoreCorruptError(`audit record ${String(row.rowKey)} in table ${this.client.tableName} is malformed: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }
}
