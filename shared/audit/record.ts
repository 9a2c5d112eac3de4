import { createHash } from "node:crypto";
import { z } from "zod";
import { canonicalJson, type JsonValue } from "./canonical.js";

/** The hash the first record chains to: 64 zeros (no record comes before it). */
export const GENESIS_HASH = "0".repeat(64);

const jsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]));

/**
 * One thing that happened, before it has a place in the chain. `id` is the change's own id
 * (deterministic, so a change appended twice is one record); `actor` who did it (a person's UPN
 * and object id, or "grantguard" for its own judgements); `subject` what it happened to.
 */
export const auditEntrySchema = z.strictObject({
  id: z.string().min(1).max(512),
  kind: z.string().min(1).max(100),
  at: z.string(),
  actor: z.string(),
  subject: z.string(),
  data: z.record(z.string(), jsonValue),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** A record of the trail: the entry, its place (`seq`, from 1, gapless) and the chain's hashes. */
export const auditRecordSchema = auditEntrySchema.extend({
  seq: z.number().int().min(1),
  previousHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/** The end of the chain: the last record's number and hash (0 and GENESIS_HASH when empty). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_HEAD: ChainHead = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** What a record's hash covers: everything but the two hashes (the previous one is prefixed instead). */
export function hashedBody(record: AuditEntry & { readonly seq: number }): Record<string, JsonValue> {
  return { seq: record.seq, id: record.id, kind: record.kind, at: record.at, actor: record.actor, subject: record.subject, data: record.data };
}

/** hash = SHA-256 over the UTF-8 bytes of (previous hash in lower-case hex ‖ canonical JSON of the record's body), as lower-case hex. */
export function recordHash(previousHash: string, record: AuditEntry & { readonly seq: number }): string {
  return createHash("sha256").update(previousHash, "utf8").update(canonicalJson(hashedBody(record)), "utf8").digest("hex");
}

/** Places entries after `head`: their numbers and hashes, in order. */
export function chainEntries(head: ChainHead, entries: readonly AuditEntry[]): AuditRecord[] {
  const records: AuditRecord[] = [];
  let previous = head;
  for (const entry of entries) {
    const seq = previous.seq + 1;
    const hash = recordHash(previous.hash, { ...entry, seq });
    records.push({ ...entry, seq, previousHash: previous.hash, hash });
    previous = { seq, hash };
  }
  return records;
}

/** SHA-256 of text as lower-case hex. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
