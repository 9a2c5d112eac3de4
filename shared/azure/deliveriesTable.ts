import { createHash } from "node:crypto";
import { z } from "zod";
import { odata, RestError, type TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { StoreCorruptError } from "../errors.js";
import { sanitizeKey } from "../findings/keys.js";
import { mapConcurrently } from "../model/concurrency.js";
import { deliverySchema, type AlertDeliveries, type Delivery, type DeliveryChange } from "../response/deliveries.js";
import { ensureTable } from "./tables.js";

const FIELDS = Object.keys(deliverySchema.shape);
// A due index row: which delivery, due when.
const duePointerSchema = z.object({ alertId: z.string(), channel: deliverySchema.shape.channel, nextAttemptAt: z.string(), findingId: z.string().nullable().default(null) });
const MAX_BATCH = 100; // Table Storage: at most 100 entities per transaction, one partition.
const SHARD_READS_IN_FLIGHT = 8;

// Layout (docs/findings-store.md): 16 partitions ("shards"), a delivery's shard derived from its
// finding's assignment, so one event's deliveries share a shard and are written in one
// transaction. In each shard, beside the records, two indexes that the same transactions keep:
// "due.{nextAttemptAt}.…" for every pending delivery (a RowKey range up to now is exactly what
// is due) and "digest.…" for every delivery waiting for the digest.
export const DELIVERY_SHARDS = Array.from({ length: 16 }, (_, i) => `shard-${i.toString(16)}`);
const RECORD = "alert.";
const DUE = "due.";
const DIGEST = "digest.";

/** The shard of a delivery: from its finding's assignment (the hash its id ends with), else from the alert. */
export function deliveryShard(delivery: Pick<Delivery, "findingId" | "alertId">): string {
  const basis = delivery.findingId ? delivery.findingId.slice(delivery.findingId.lastIndexOf(".") + 1) : delivery.alertId;
  const digit = createHash("sha256").update(basis).digest("hex").charAt(0);
  return `shard-${digit}`;
}

const id = (d: Delivery) => sanitizeKey(`${d.alertId}.${d.channel}`);
const recordKey = (d: Delivery) => `${RECORD}${id(d)}`;
const dueKey = (d: Delivery) => `${DUE}${d.nextAttemptAt}.${id(d)}`;
const digestKey = (d: Delivery) => `${DIGEST}${id(d)}`;

/** The index row a delivery in this state has (null when delivered or failed). */
function indexKey(d: Delivery): string | null {
  if (d.status === "pending") return dueKey(d);
  if (d.status === "digest") return digestKey(d);
  return null;
}

type Entity = TableEntity<Record<string, unknown>>;

function entity(rowKey: string, d: Delivery): Entity {
  return { partitionKey: deliveryShard(d), rowKey, ...Object.fromEntries(Object.entries(d).filter(([, v]) => v !== null)) };
}

/**
 * A delivery's index row: for the due index a pointer (which record, due when; the timer reads
 * the records it claims), for the digest a copy (the digest sends them all, once an hour).
 */
function indexEntity(rowKey: string, d: Delivery): Entity {
  if (d.status !== "pending") return entity(rowKey, d);
  return { partitionKey: deliveryShard(d), rowKey, alertId: d.alertId, channel: d.channel, nextAttemptAt: d.nextAttemptAt, ...(d.findingId ? { findingId: d.findingId } : {}) };
}

/** One delivery's create: its record and its index row, both new. */
function createActions(d: Delivery): TransactionAction[] {
  const index = indexKey(d);
  return [["create", entity(recordKey(d), d)], ...(index ? [["create", indexEntity(index, d)] as TransactionAction] : [])];
}

/**
 * The record's part of a change: only the fields that changed (a Merge: the payload is not sent
 * again), unless one of them becomes null, which only a Replace can say (Table Storage stores no nulls).
 */
function recordAction(previous: Delivery, next: Delivery): TransactionAction {
  const changed = (Object.keys(next) as (keyof Delivery)[]).filter((k) => next[k] !== previous[k]);
  if (changed.some((k) => next[k] === null)) return ["upsert", entity(recordKey(next), next), "Replace"];
  return ["update", { partitionKey: deliveryShard(next), rowKey: recordKey(next), ...Object.fromEntries(changed.map((k) => [k, next[k]])) }, "Merge"];
}

/**
 * One change: the record updated, the index row it had removed (it must still be there: if
 * another instance claimed the delivery meanwhile, the whole transaction fails) and the new one
 * written.
 */
function changeActions({ previous, next }: DeliveryChange): TransactionAction[] {
  const before = indexKey(previous);
  const after = indexKey(next);
  const actions: TransactionAction[] = [recordAction(previous, next)];
  if (before && before === after) {
    actions.push(["update", indexEntity(after, next), "Replace"]);
    return actions;
  }
  if (before) actions.push(["delete", { partitionKey: deliveryShard(previous), rowKey: before }]);
  if (after) actions.push(["create", indexEntity(after, next)]);
  return actions;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function byShard<T>(items: readonly T[], key: (item: T) => Pick<Delivery, "findingId" | "alertId">): Map<string, T[]> {
  const shards = new Map<string, T[]>();
  for (const item of items) {
    const shard = deliveryShard(key(item));
    shards.set(shard, [...(shards.get(shard) ?? []), item]);
  }
  return shards;
}

/** A transaction lost to a concurrent writer: a row it creates exists (409) or one it changes is gone or changed (404, 412). */
const lostRace = (error: unknown) => error instanceof RestError && (error.statusCode === 409 || error.statusCode === 404 || error.statusCode === 412);

/** Deliveries in Table Storage: 16 shards, each holding records and the due and digest indexes. */
export class TableAlertDeliveries implements AlertDeliveries {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
  }

  #parse(e: Record<string, unknown>): Delivery {
    const parsed = deliverySchema.safeParse(Object.fromEntries(FIELDS.map((f) => [f, e[f] ?? null])));
    if (!parsed.success) throw new StoreCorruptError(`alert delivery ${String(e.partitionKey)}/${String(e.rowKey)} is malformed: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  /**
   * Submits each item's actions, as many items per transaction as fit; when a transaction is lost
   * to a concurrent writer, its items are tried one by one. Returns the items that were written.
   */
  async #submit<T>(items: readonly T[], actionsOf: (item: T) => TransactionAction[], shardOf: (item: T) => Pick<Delivery, "findingId" | "alertId">, perItem: number): Promise<T[]> {
    const batches = [...byShard(items, shardOf).values()].flatMap((inShard) => chunk(inShard, Math.floor(MAX_BATCH / perItem)));
    const written = await mapConcurrently(batches, SHARD_READS_IN_FLIGHT, async (batch) => {
      try {
        await this.client.submitTransaction(batch.flatMap(actionsOf));
        return batch;
      } catch (error) {
        if (!lostRace(error)) throw error;
      }
      if (batch.length === 1) return [];
      const alone = await mapConcurrently(batch, 1, async (item) => {
        try {
          await this.client.submitTransaction(actionsOf(item));
          return [item];
        } catch (error) {
          if (lostRace(error)) return [];
          throw error;
        }
      });
      return alone.flat();
    });
    return written.flat();
  }

  batchKey(delivery: Pick<Delivery, "findingId" | "alertId">): string {
    return deliveryShard(delivery);
  }

  async create(deliveries: readonly Delivery[]): Promise<Delivery[]> {
    await this.#ensure();
    const unique = [...new Map(deliveries.map((d) => [id(d), d])).values()];
    return this.#submit(unique, createActions, (d) => d, 2);
  }

  /** The entities of one RowKey range in every shard, at most `limit` per shard. */
  async #listIndex(from: string, to: string, limit: number): Promise<Record<string, unknown>[]> {
    const found = await mapConcurrently(DELIVERY_SHARDS, SHARD_READS_IN_FLIGHT, async (shard) => {
      const rows: Record<string, unknown>[] = [];
      const filter = `${odata`PartitionKey eq ${shard}`} and ${odata`RowKey ge ${from}`} and ${odata`RowKey lt ${to}`}`;
      for await (const e of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        rows.push(e);
        if (rows.length >= limit) break;
      }
      return rows;
    });
    return found.flat();
  }

  async claimDue(options: { readonly now: Date; readonly leaseUntil: Date; readonly limit: number }): Promise<Delivery[]> {
    await this.#ensure();
    // "/" sorts right after ".": every key "due.{t}.…" with t ≤ now, and none after.
    const pointers = (await this.#listIndex(DUE, `${DUE}${options.now.toISOString()}/`, options.limit))
      .flatMap((e) => {
        const parsed = duePointerSchema.safeParse(e);
        if (!parsed.success) throw new StoreCorruptError(`due delivery ${String(e.partitionKey)}/${String(e.rowKey)} is malformed: ${parsed.error.issues[0]?.message}`);
        return [parsed.data];
      })
      .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt))
      .slice(0, options.limit);
    const leaseUntil = options.leaseUntil.toISOString();
    // A claim moves the pointer to the lease's end and says so on the record; only one claimer's delete of the old pointer succeeds.
    const claimed = await this.#submit(
      pointers,
      (p): TransactionAction[] => [
        ["delete", { partitionKey: deliveryShard(p), rowKey: `${DUE}${p.nextAttemptAt}.${sanitizeKey(`${p.alertId}.${p.channel}`)}` }],
        ["create", { partitionKey: deliveryShard(p), rowKey: `${DUE}${leaseUntil}.${sanitizeKey(`${p.alertId}.${p.channel}`)}`, ...p, nextAttemptAt: leaseUntil }],
        ["update", { partitionKey: deliveryShard(p), rowKey: `${RECORD}${sanitizeKey(`${p.alertId}.${p.channel}`)}`, nextAttemptAt: leaseUntil }, "Merge"],
      ],
      (p) => p,
      3,
    );
    const records = await mapConcurrently(claimed, SHARD_READS_IN_FLIGHT, async (p) => this.#parse(await this.client.getEntity<Record<string, unknown>>(deliveryShard(p), `${RECORD}${sanitizeKey(`${p.alertId}.${p.channel}`)}`)));
    // A pointer whose record is no longer pending has nothing left to send: it goes.
    const stale = records.filter((d) => d.status !== "pending");
    await mapConcurrently(stale, SHARD_READS_IN_FLIGHT, (d) => this.client.deleteEntity(deliveryShard(d), dueKey(d)).then(() => undefined));
    return records.filter((d) => d.status === "pending");
  }

  async update(changes: readonly DeliveryChange[]): Promise<void> {
    await this.#ensure();
    await this.#submit(changes, changeActions, (c) => c.previous, 3);
  }

  async listExisting(deliveries: readonly Delivery[]): Promise<Delivery[]> {
    await this.#ensure();
    // Every channel's record of one alert is in one shard, under one prefix: one range read per alert.
    const alerts = [...new Map(deliveries.map((d) => [d.alertId, d])).values()];
    const wanted = new Set(deliveries.map(id));
    const found = await mapConcurrently(alerts, SHARD_READS_IN_FLIGHT, async (d) => {
      const prefix = `${RECORD}${sanitizeKey(`${d.alertId}.`)}`;
      const filter = `${odata`PartitionKey eq ${deliveryShard(d)}`} and ${odata`RowKey ge ${prefix}`} and ${odata`RowKey lt ${`${prefix.slice(0, -1)}/`}`}`;
      const records: Delivery[] = [];
      for await (const e of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) records.push(this.#parse(e));
      return records;
    });
    return found.flat().filter((d) => wanted.has(id(d)));
  }

  async listDigest(): Promise<Delivery[]> {
    await this.#ensure();
    const rows = await this.#listIndex(DIGEST, "digest/", Number.POSITIVE_INFINITY);
    return rows.map((e) => this.#parse(e)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async list(options: { readonly status?: Delivery["status"] } = {}): Promise<Delivery[]> {
    await this.#ensure();
    const out: Delivery[] = [];
    const clauses = [odata`RowKey ge ${RECORD}`, odata`RowKey lt ${"alert/"}`];
    if (options.status) clauses.push(odata`status eq ${options.status}`);
    for await (const e of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: clauses.join(" and ") } })) out.push(this.#parse(e));
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Every delivery of one finding's alerts: one range read of the shard its deliveries live in. */
  async listForFinding(findingId: string): Promise<Delivery[]> {
    await this.#ensure();
    const out: Delivery[] = [];
    const filter = [odata`PartitionKey eq ${deliveryShard({ findingId, alertId: "" })}`, odata`RowKey ge ${RECORD}`, odata`RowKey lt ${"alert/"}`, odata`findingId eq ${findingId}`].join(" and ");
    for await (const e of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) out.push(this.#parse(e));
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}
