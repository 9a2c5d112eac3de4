import { z } from "zod";
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
