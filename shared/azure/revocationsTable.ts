import { odata, RestError, type TableClient } from "@azure/data-tables";
import { ConcurrentChangeError, StoreCorruptError } from "../errors.js";
import { retryOnConflict } from "../findings/store.js";
import { ARMED, breakerSchema, revocationSchema, type Breaker, type Revocation, type RevocationStatus, type RevocationStore } from "../response/revocations.js";
import { ensureTable } from "./tables.js";

const JSON_FIELDS = ["policyIds", "findings"];
const FIELDS = Object.keys(revocationSchema.shape);
const PARTITION = "revocation";
const BREAKER = { partitionKey: "breaker", rowKey: "state" };

const isConflict = (error: unknown) => error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409);

/** Revocations in Table Storage (few by design: the breaker caps them). */
export class TableRevocationStore implements RevocationStore {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
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
      await this.client.createEntity(this.#entity(r));
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
        await this.client.updateEntity(this.#entity(next), "Replace", { etag: stored.etag });
        return { changed: true, revocation: next };
      } catch (error) {
        if (isConflict(error)) return undefined;
        throw error;
      }
    });
  }

  async list(options: { readonly assignmentId?: string; readonly createdSince?: string } = {}): Promise<Revocation[]> {
    await this.#ensure();
    const clauses = [odata`PartitionKey eq ${PARTITION}`];
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
        if (etag) await this.client.updateEntity(entity, "Replace", { etag });
        else await this.client.createEntity(entity);
        return { result };
      } catch (error) {
        if (isConflict(error)) return undefined;
        throw error;
      }
    }).then((r) => r.result);
  }
}
