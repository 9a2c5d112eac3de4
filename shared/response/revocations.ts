import { odata, RestError, type TableClient } from "@azure/data-tables";
import { z } from "zod";
import { ConcurrentChangeError, StoreCorruptError } from "../errors.js";
import { ensureTable } from "../azure/tables.js";
import { findingSchema } from "../model/finding.js";

export const REVOCATION_STATUSES = ["pending", "deleted", "blocked", "failed", "restoring", "restored"] as const;
export type RevocationStatus = (typeof REVOCATION_STATUSES)[number];

/** A revoked (or about to be revoked) assignment, exactly as it was: what restore puts back. */
export const revocationSchema = z.object({
  id: z.string(),
  assignmentId: z.string(),
  assignmentName: z.string(),
  scope: z.string(),
  principalId: z.string(),
  principalType: z.string(),
  roleDefinitionId: z.string(),
  condition: z.string().nullable(),
  conditionVersion: z.string().nullable(),
  description: z.string().nullable(),
  delegatedManagedIdentityResourceId: z.string().nullable(),
  /**
   * pending: backed up, delete not confirmed; deleted; blocked by the cap; failed (ARM refused);
   * restoring: a person asked for it back and the re-creation is not confirmed; restored.
   */
  status: z.enum(REVOCATION_STATUSES),
  detail: z.string().nullable(),
  policyIds: z.array(z.string()),
  /** The findings as judged when the revocation was decided, so a crash after the delete loses nothing. */
  findings: z.array(findingSchema),
  eventId: z.string().nullable(),
  createdAt: z.string(),
  deletedAt: z.string().nullable(),
  /** When a person asked for it back (recorded before ARM re-creates it), and when that was done. */
  restoreRequestedAt: z.string().nullable(),
  restoredAt: z.string().nullable(),
  restoredBy: z.string().nullable(),
  restoreReason: z.string().nullable(),
});
export type Revocation = z.infer<typeof revocationSchema>;

/**
 * The blast-radius breaker: the revocations counted in the current window, and once tripped,
 * nothing is revoked until a person re-arms it.
 */
export const breakerSchema = z.object({
  tripped: z.boolean(),
  trippedAt: z.string().nullable(),
  reason: z.string().nullable(),
  /** The assignment whose revocation found the cap full. */
  trippedBy: z.string().nullable(),
  /** Revocation ids counted against the cap, with when each was counted. */
  recent: z.array(z.object({ id: z.string(), at: z.string() })),
  rearmedAt: z.string().nullable(),
  rearmedBy: z.string().nullable(),
  rearmReason: z.string().nullable(),
});
export type Breaker = z.infer<typeof breakerSchema>;

export const ARMED: Breaker = { tripped: false, trippedAt: null, reason: null, trippedBy: null, recent: [], rearmedAt: null, rearmedBy: null, rearmReason: null };

/** Backups, revocation history and the breaker. Every change is conditional: concurrent deliveries race here. */
export interface RevocationStore {
  get(id: string): Promise<Revocation | null>;
  /** Stores the backup unless one with its id exists; returns what is stored (an existing one wins). */
  create(revocation: Revocation): Promise<Revocation>;
  /**
   * Applies `change` to the stored revocation only while its status is one of `from` (checked and
   * written with its ETag, retried on a concurrent write). `changed` is false when the status was
   * elsewhere; null when there is no such revocation.
   */
  transition(id: string, from: readonly RevocationStatus[], change: (current: Revocation) => Revocation): Promise<{ readonly changed: boolean; readonly revocation: Revocation } | null>;
  /** All revocations, or those of one assignment, or those created since a time (filtered in the store). */
  list(options?: { readonly assignmentId?: string; readonly createdSince?: string }): Promise<Revocation[]>;
  getBreaker(): Promise<Breaker>;
  /**
   * Read-modify-write of the breaker with its ETag, retried on a concurrent write: `change` sees
   * the stored breaker and returns the next one (null: leave it) and a result for the caller.
   */
  updateBreaker<T>(change: (current: Breaker) => { readonly next: Breaker | null; readonly result: T }): Promise<T>;
}

const JSON_FIELDS = ["policyIds", "findings"];
const FIELDS = Object.keys(revocationSchema.shape);
const PARTITION = "revocation";
const BREAKER = { partitionKey: "breaker", rowKey: "state" };
const MAX_TRIES = 20;

/** The retry loop of an optimistic write: `attempt` returns a result, or undefined after losing a race. */
export async function retryOnConflict<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const result = await attempt();
    if (result !== undefined) return result;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (i + 1)));
  }
  throw new ConcurrentChangeError(`${what} kept changing under ${MAX_TRIES} concurrent writers; the delivery is retried`);
}

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
