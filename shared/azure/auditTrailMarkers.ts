import { createHash } from "node:crypto";
import { odata, RestError, type TableClient, type TransactionAction } from "@azure/data-tables";
import { auditEntrySchema, type AuditEntry } from "../audit/record.js";
import type { TrailDrain, TrailMarker, TrailMarkerStore } from "../audit/trail.js";
import { StoreCorruptError } from "../errors.js";
import { mapConcurrently } from "../model/concurrency.js";

// Trail markers: the promise to trail a change, written in the change's own transaction, in the
// change's own partition (after "~", so no query of the state itself ever sees one). Keyed by the
// entry's id, so writing the same change again rewrites the same marker.
export const TRAIL_ROW_PREFIX = "~trail.";
const TRAIL_ROW_END = "~trail/";
const PART_CHARS = 30_000; // a string property holds at most 32K UTF-16 code units
const PARTITIONS_IN_FLIGHT = 8;
const MAX_BATCH = 100; // Table Storage: at most 100 entities per transaction, one partition

/** JSON of a value in one or more string columns (`name`, `name1`, … and `nameParts`), each within Table Storage's limit. */
export function jsonColumns(name: string, value: unknown): Record<string, string | number> {
  const json = JSON.stringify(value);
  const columns: Record<string, string | number> = {};
  let part = 0;
  for (let i = 0; i < json.length || part === 0; part++) {
    let end = Math.min(json.length, i + PART_CHARS);
    if (end < json.length && /[\ud800-\udbff]/.test(json.charAt(end - 1))) end -= 1; // never split a surrogate pair
    columns[part === 0 ? name : `${name}${part}`] = json.slice(i, end);
    i = end;
  }
  if (part > 1) columns[`${name}Parts`] = part;
  return columns;
}

/** The JSON text `jsonColumns` stored (not parsed: the caller decides what a bad one means). */
export function readJsonColumns(row: Record<string, unknown>, name: string): unknown {
  const parts = typeof row[`${name}Parts`] === "number" ? (row[`${name}Parts`] as number) : 1;
  if (parts === 1) return row[name];
  return Array.from({ length: parts }, (_, i) => row[i === 0 ? name : `${name}${i}`]).join("");
}

/** The RowKey of the marker of an entry. */
export function trailRowKey(entry: AuditEntry): string {
  return `${TRAIL_ROW_PREFIX}${createHash("sha256").update(entry.id, "utf8").digest("hex")}`;
}

/** The transaction action writing an entry's marker into `partition`, and the marker it makes. */
export function trailMarkerAction(partition: string, entry: AuditEntry): { readonly action: TransactionAction; readonly marker: TrailMarker } {
  const rowKey = trailRowKey(entry);
  // An upsert: the same change written again (a retried commit) leaves one marker.
  return { action: ["upsert", { partitionKey: partition, rowKey, ...jsonColumns("entry", entry) }, "Replace"], marker: { entry, location: JSON.stringify([partition, rowKey]) } };
}

/** Where a marker is: its partition and RowKey. */
function locate(marker: TrailMarker): [string, string] {
  const [partition, rowKey] = JSON.parse(marker.location) as [string, string];
  return [partition, rowKey];
}

/** The markers of one table, in the partitions `partitions` names (a fixed list, or the findings' partition index). */
export class TableTrailMarkers implements TrailMarkerStore {
  constructor(
    private readonly client: TableClient,
    private readonly partitions: () => Promise<readonly string[]>,
  ) {}

  async list(options: { readonly limit?: number } = {}): Promise<TrailMarker[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const found: TrailMarker[] = [];
    let partitions: readonly string[];
    try {
      partitions = await this.partitions();
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return []; // no table yet: nothing was written
      throw error;
    }
    await mapConcurrently(partitions, PARTITIONS_IN_FLIGHT, async (partition) => {
      const filter = [odata`PartitionKey eq ${partition}`, odata`RowKey ge ${TRAIL_ROW_PREFIX}`, odata`RowKey lt ${TRAIL_ROW_END}`].join(" and ");
      try {
        for await (const row of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
          if (found.length >= limit) return;
          found.push({ entry: this.#entry(row), location: JSON.stringify([partition, row.rowKey]) });
        }
      } catch (error) {
        if (!(error instanceof RestError && error.statusCode === 404)) throw error;
      }
    });
    return found;
  }

  #entry(row: Record<string, unknown>): AuditEntry {
    let value: unknown;
    try {
      value = JSON.parse(String(readJsonColumns(row, "entry")));
    } catch {
      value = undefined;
    }
    const parsed = auditEntrySchema.safeParse(value);
    if (!parsed.success) throw new StoreCorruptError(`trail marker ${String(row.partitionKey)}/${String(row.rowKey)} in table ${this.client.tableName} is malformed: ${parsed.error.issues[0]?.message ?? "not JSON"}`);
    return parsed.data;
  }

  async remove(markers: readonly TrailMarker[]): Promise<void> {
    // One transaction per partition and 100 markers; if one of them is gone already (another
    // drainer removed it), the transaction fails as a whole and they are removed one by one.
    const byPartition = new Map<string, Set<string>>();
    for (const marker of markers) {
      const [partition, rowKey] = locate(marker);
      byPartition.set(partition, (byPartition.get(partition) ?? new Set()).add(rowKey));
    }
    const batches = [...byPartition].flatMap(([partition, keys]) => {
      const rows = [...keys];
      return Array.from({ length: Math.ceil(rows.length / MAX_BATCH) }, (_, i) => ({ partition, rowKeys: rows.slice(i * MAX_BATCH, (i + 1) * MAX_BATCH) }));
    });
    await mapConcurrently(batches, PARTITIONS_IN_FLIGHT, async ({ partition, rowKeys }) => {
      try {
        await this.client.submitTransaction(rowKeys.map((rowKey): TransactionAction => ["delete", { partitionKey: partition, rowKey }]));
      } catch (error) {
        if (!(error instanceof RestError && error.statusCode === 404)) throw error;
        await mapConcurrently(rowKeys, PARTITIONS_IN_FLIGHT, async (rowKey) => {
          try {
            await this.client.deleteEntity(partition, rowKey);
          } catch (inner) {
            if (!(inner instanceof RestError && inner.statusCode === 404)) throw inner; // removed by another drainer
          }
        });
      }
    });
  }
}

/** What a store runs after a commit that wrote markers (nothing, when no trail is wired). */
export type AfterCommit = (markers: readonly TrailMarker[]) => Promise<void>;

/** The after-commit hook of a store whose markers `store` reads: the trail's drain, or nothing. */
export function afterCommitOf(drain: TrailDrain | undefined, store: TrailMarkerStore): AfterCommit {
  return async (markers) => {
    if (drain && markers.length > 0) await drain(store, markers);
  };
}
