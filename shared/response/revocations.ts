import { odata, RestError, type TableClient } from "@azure/data-tables";
import { z } from "zod";
import { GrantGuardError } from "../errors.js";
import { ensureTable } from "../azure/tables.js";
import { findingSchema } from "../model/finding.js";

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
  /** pending: backed up, delete not confirmed; deleted; blocked by a guard rail; failed (conflict); restored. */
  status: z.enum(["pending", "deleted", "blocked", "failed", "restored"]),
  detail: z.string().nullable(),
  policyIds: z.array(z.string()),
  /** The findings as judged when the revocation was decided, so a crash after the delete loses nothing. */
  findings: z.array(findingSchema),
  eventId: z.string().nullable(),
  createdAt: z.string(),
  deletedAt: z.string().nullable(),
  restoredAt: z.string().nullable(),
  restoredBy: z.string().nullable(),
  restoreReason: z.string().nullable(),
});
export type Revocation = z.infer<typeof revocationSchema>;

/** The blast-radius breaker: once tripped, nothing is revoked until a person re-arms it. */
export const breakerSchema = z.object({
  tripped: z.boolean(),
  trippedAt: z.string().nullable(),
  reason: z.string().nullable(),
  rearmedAt: z.string().nullable(),
  rearmedBy: z.string().nullable(),
  rearmReason: z.string().nullable(),
});
export type Breaker = z.infer<typeof breakerSchema>;

export const ARMED: Breaker = { tripped: false, trippedAt: null, reason: null, rearmedAt: null, rearmedBy: null, rearmReason: null };

/** Backups, revocation history and the breaker. */
export interface RevocationStore {
  get(id: string): Promise<Revocation | null>;
  put(revocation: Revocation): Promise<void>;
  /** All revocations, or those of one assignment, or those created since a time (filtered in the store). */
  list(options?: { readonly assignmentId?: string; readonly createdSince?: string }): Promise<Revocation[]>;
  getBreaker(): Promise<Breaker>;
  putBreaker(breaker: Breaker): Promise<void>;
}

const JSON_FIELDS = ["policyIds", "findings"];
const FIELDS = Object.keys(revocationSchema.shape);
const PARTITION = "revocation";
const BREAKER = { partitionKey: "breaker", rowKey: "state" };

/** Revocations in Table Storage (few by design: the breaker caps them). */
export class TableRevocationStore implements RevocationStore {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
  }

  #parse(e: Record<string, unknown>): Revocation {
    const record = Object.fromEntries(FIELDS.map((f) => [f, JSON_FIELDS.includes(f) && typeof e[f] === "string" ? JSON.parse(e[f] as string) : (e[f] ?? null)]));
    const parsed = revocationSchema.safeParse(record);
    if (!parsed.success) throw new GrantGuardError(`revocation ${String(e.rowKey)} is malformed: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  async get(id: string): Promise<Revocation | null> {
    await this.#ensure();
    try {
      return this.#parse(await this.client.getEntity<Record<string, unknown>>(PARTITION, id));
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return null;
      throw error;
    }
  }

  async put(r: Revocation): Promise<void> {
    await this.#ensure();
    const entity = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null).map(([k, v]) => [k, JSON_FIELDS.includes(k) ? JSON.stringify(v) : v]));
    await this.client.upsertEntity({ partitionKey: PARTITION, rowKey: r.id, ...entity }, "Replace");
  }

  async list(options: { readonly assignmentId?: string; readonly createdSince?: string } = {}): Promise<Revocation[]> {
    await this.#ensure();
    const clauses = [odata`PartitionKey eq ${PARTITION}`];
    if (options.assignmentId) clauses.push(odata`assignmentId eq ${options.assignmentId}`);
    if (options.createdSince) clauses.push(odata`createdAt ge ${options.createdSince}`);
    const out: Revocation[] = [];
    for await (const e of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: clauses.join(" and ") } })) out.push(this.#parse(e));
    // Ids are case-insensitive in Azure; the filter above is exact, so compare again without case.
    return out.filter((r) => !options.assignmentId || r.assignmentId.toLowerCase() === options.assignmentId.toLowerCase()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async getBreaker(): Promise<Breaker> {
    await this.#ensure();
    try {
      const e = await this.client.getEntity<Record<string, unknown>>(BREAKER.partitionKey, BREAKER.rowKey);
      return breakerSchema.parse(Object.fromEntries(Object.keys(breakerSchema.shape).map((k) => [k, e[k] ?? null])));
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return ARMED;
      throw error;
    }
  }

  async putBreaker(breaker: Breaker): Promise<void> {
    await this.#ensure();
    await this.client.upsertEntity({ ...BREAKER, ...Object.fromEntries(Object.entries(breaker).filter(([, v]) => v !== null)) }, "Replace");
  }
}
