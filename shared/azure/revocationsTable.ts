import { odata, RestError, type TableClient, type TransactionAction } from "@azure/data-tables";
import { ConcurrentChangeError, StoreCorruptError } from "../errors.js";
import { retryOnConflict } from "../findings/store.js";
import { ARMED, breakerSchema, revocationSchema, type Breaker, type Revocation, type RevocationStatus, type RevocationStore } from "../response/revocations.js";
import { ensureTable } from "./tables.js";
import { breakerChanges, revocationChange } from "../audit/changes.js";
import type { AuditEntry } from "../audit/record.js";
import type { TrailDrain, TrailMarker, TrailMarkerStore } from "../audit/trail.js";
import { afterCommitOf, TableTrailMarkers, trailMarkerAction, type AfterCommit } from "./auditTrailMarkers.js";

const JSON_FIELDS = ["policyIds", "findings"];
const FIELDS = Object.keys(revocationSchema.shape);
const PARTITION = "revocation";
const BREAKER = { partitionKey: "breaker", rowKey: "state" };

const isConflict = (error: unknown) => error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409);

/** Revocations in Table Storage (few by design: the breaker caps them). */
export class TableRevocationStore implements RevocationStore {
  readonly #ensure: () => Promise<void>;
  /** The audit trail's markers in this table: every revocation, restore and re-arm is promised to the trail in its own transaction. */
  readonly trailMarkers: TrailMarkerStore;
  readonly #afterCommit: AfterCommit;

  /** `options.trail` drains a change's trail markers into the chain right after it (the timer drains what a crash leaves). */
  constructor(
    private readonly client: TableClient,
    options: { readonly trail?: TrailDrain } = {},
  ) {
    this.#ensure = ensureTable(client);
    this.trailMarkers = new TableTrailMarkers(client, async () => [PARTITION, BREAKER.partitionKey]);
    this.#afterCommit = afterCommitOf(options.trail, this.trailMarkers);
  }

  /** Writes `entity` (create, or replace at `etag`) with the trail markers of `entries`, in one transaction of its partition; then drains them. */
  async #write(entity: { partitionKey: string; rowKey: string } & Record<string, unknown>, etag: string | null, entries: readonly AuditEntry[]): Promise<void> {
    const markers: TrailMarker[] = [];
    const actions: TransactionAction[] = [etag ? ["update", entity, "Replace", { etag }] : ["create", entity]];
    for (const entry of entries) {
      const { action, marker } = trailMarkerAction(entity.partitionKey, entry);
      actions.push(action);
      markers.push(marker);
    }
    if (actions.length === 1) {
      if (etag) await this.client.updateEntity(entity, "Replace", { etag });
      else await this.client.createEntity(entity);
    } else await this.client.submitTransaction(actions);
    await this.#afterCommit(markers);
  }

  #parse(e: Record<string, unknown>): Revocation {
    const record = Object.fromEntries(FIELDS.map((f) => [f, JSON_FIELDS.includes(f) && typeof e[f] === "string" ? JSON.parse(e[f] as string) : (e[f] ?? null)]));
    const parsed = revocationSchema.safeParse(record);
    if (!parsed.success) throw new StoreCorruptError(`revocation ${String(e.rowKey)} is malformed: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  #entity(r: Revocation) {
    const fields = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null).map(([k, v]) => [k, JSON_FIELDS.includes(k) ? JSON.stringify(v) : v]));
    return { partitionKey: PARTITION, rowKey: r.id, ...fields };
  }

  async #read(id: string): Promise<{ revocation: Revocation; etag: string } | null> {
    await this.#ensure();
    try {
      const entity = await this.client.getEntity<Record<string, unknown>>(PARTITION, id);
      return { revocation: this.#parse(entity), etag: entity.etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return null;
      throw error;
    }
  }

  async get(id: string): Promise<Revocation | null> {
    return (await this.#read(id))?.revocation ?? null;
  }

  async create(r: Revocation): Promise<Revocation> {
    await this.#ensure();
    try {
      await this.#write(this.#entity(r), null, [revocationChange(null, r, new Date().toISOString())].filter((e) => e !== null));
      return r;
    } catch (error) {
      if (!isConflict(error)) throw error;
      const existing = await this.get(r.id);
      if (!existing) throw new ConcurrentChangeError(`revocation ${r.id} exists and vanished`, { cause: error });
      return existing;
    }
  }

  async transition(id: string, from: readonly RevocationStatus[], change: (current: Revocation) => Revocation) {
    return retryOnConflict(`revocation ${id}`, async () => {
      const stored = await this.#read(id);
      if (!stored) return null;
      if (!from.includes(stored.revocation.status)) return { changed: false, revocation: stored.revocation };
      const next = change(stored.revocation);
      try {
        await this.#write(this.#entity(next), stored.etag, [revocationChange(stored.revocation, next, new Date().toISOString())].filter((e) => e !== null));
        return { changed: true, revocation: next };
      } catch (error) {
        if (isConflict(error)) return undefined;
        throw error;
      }
    });
  }

  async list(options: { readonly assignmentId?: string; readonly createdSince?: string } = {}): Promise<Revocation[]> {
    await this.#ensure();
    // Trail markers share the partition; they sort after every revocation id.
    const clauses = [odata`PartitionKey eq ${PARTITION}`, odata`RowKey lt ${"~"}`];
    if (options.createdSince) clauses.push(odata`createdAt ge ${options.createdSince}`);
    const out: Revocation[] = [];
    for await (const e of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: clauses.join(" and ") } })) out.push(this.#parse(e));
    // Ids are case-insensitive in Azure: compare without case.
    return out.filter((r) => !options.assignmentId || r.assignmentId.toLowerCase() === options.assignmentId.toLowerCase()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async #readBreaker(): Promise<{ breaker: Breaker; etag: string | null }> {
    await this.#ensure();
    try {
      const e = await this.client.getEntity<Record<string, unknown>>(BREAKER.partitionKey, BREAKER.rowKey);
      const parsed = breakerSchema.safeParse({ ...Object.fromEntries(Object.keys(breakerSchema.shape).map((k) => [k, e[k] ?? null])), recent: typeof e.recent === "string" ? JSON.parse(e.recent) : [] });
      if (!parsed.success) throw new StoreCorruptError(`the revocation breaker is malformed: ${parsed.error.issues[0]?.message}`);
      return { breaker: parsed.data, etag: e.etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return { breaker: ARMED, etag: null };
      throw error;
    }
  }

  async getBreaker(): Promise<Breaker> {
    return (await this.#readBreaker()).breaker;
  }

  async updateBreaker<T>(change: (current: Breaker) => { readonly next: Breaker | null; readonly result: T }): Promise<T> {
    return retryOnConflict("the revocation breaker", async () => {
      const { breaker, etag } = await this.#readBreaker();
      const { next, result } = change(breaker);
      if (!next) return { result };
      const entity = { ...BREAKER, ...Object.fromEntries(Object.entries(next).filter(([, v]) => v !== null).map(([k, v]) => [k, k === "recent" ? JSON.stringify(v) : v])) };
      try {
        await this.#write(entity, etag, breakerChanges(breaker, next, new Date().toISOString()));
        return { result };
      } catch (error) {
        if (isConflict(error)) return undefined;
        throw error;
      }
    }).then((r) => r.result);
  }
}
