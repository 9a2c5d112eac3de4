import { createHash } from "node:crypto";
import { z } from "zod";
import { SEVERITIES } from "./severity.js";

export const FINDING_STATUSES = ["open", "exempted", "resolved"] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** A finding: one policy matched one role assignment. Every field an auditor needs, flat. */
export const findingSchema = z.object({
  id: z.string(),
  policyId: z.string(),
  policyTitle: z.string(),
  severity: z.enum(SEVERITIES),
  status: z.enum(FINDING_STATUSES),
  action: z.enum(["alert", "revoke"]),
  assignmentId: z.string(),
  assignmentName: z.string(),
  principalId: z.string(),
  principalType: z.string(),
  principalName: z.string().nullable(),
  roleDefinitionId: z.string(),
  roleName: z.string(),
  scope: z.string(),
  scopeLevel: z.string(),
  subscriptionId: z.string().nullable(),
  /** What matched, in words: the policy and the value of every fact its condition read. */
  reason: z.string(),
  /** The same values, machine-readable: fact path → value. */
  matchedFacts: z.record(z.string(), z.unknown()),
  firstSeen: z.string(),
  lastSeen: z.string(),
  resolvedAt: z.string().nullable(),
  resolution: z.string().nullable(),
  /** The exemption that accepts this match (status "exempted"), its owner and when it ends. */
  exemptionId: z.string().nullable(),
  exemptionOwner: z.string().nullable(),
  exemptionExpires: z.string().nullable(),
  /** Why the risk is accepted (the exemption file's justification, or the one a security admin gave). */
  exemptionJustification: z.string().nullish(),
  /** What auditors ask beside the finding, as known when it was last written: the role is privileged, the assignment's creation, the principal's last sign-in (a sweep's fact). */
  rolePrivileged: z.boolean().nullish(),
  assignmentCreatedOn: z.string().nullish(),
  assignmentCreatedBy: z.string().nullish(),
  principalLastSignIn: z.string().nullish(),
  /** A security admin's decision: acknowledged (the risk is seen, the finding stays open) or exempted (until exemptionExpires). */
  decision: z.enum(["acknowledged", "exempted"]).nullish(),
  /** Who decided: the user principal name and object id from their access token. */
  decidedBy: z.string().nullish(),
  decidedAt: z.string().nullish(),
  decisionNote: z.string().nullish(),
  /** The caller who made the grant: UPN, else name, else app id, else object id; null when unknown. */
  grantedBy: z.string().nullable(),
  grantedByObjectId: z.string().nullable(),
  grantedByIpAddress: z.string().nullable(),
  /** What grantguard did: alerted, revoking (backed up, delete under way), revoked (with its backup), would have revoked (audit), or why it did not. */
  responseKind: z.enum(["alerted", "revoking", "revoked", "wouldRevoke", "revocationBlocked", "revocationFailed"]),
  responseDetail: z.string().nullable(),
  backupId: z.string().nullable(),
  /** The outbox: the state change still to be announced, written with the finding itself. */
  alertPending: z.boolean(),
  alertTransition: z.enum(["opened", "exempted", "resolved"]).nullable(),
  alertAt: z.string().nullable(),
  /** The event that last changed this finding. */
  lastEventId: z.string().nullable(),
  correlationId: z.string().nullable(),
});
export type Finding = z.infer<typeof findingSchema>;

/** The deterministic finding id: the policy id plus a hash of the (case-insensitive) assignment id. */
export function findingId(policyId: string, assignmentId: string): string {
  const hash = createHash("sha256").update(assignmentId.toLowerCase()).digest("hex").slice(0, 32);
  return `${policyId}.${hash}`;
}

/** What happened to one delivered event: the ledger auditors read next to the findings. */
export const eventRecordSchema = z.object({
  eventId: z.string(),
  receivedAt: z.string(),
  eventType: z.string().nullable(),
  eventTime: z.string().nullable(),
  /** failed: not judged yet (an Azure failure); the delivery is retried and a later outcome replaces this. */
  outcome: z.enum(["judged", "assignmentGone", "resolved", "rejected", "failed"]),
  reason: z.string(),
  assignmentId: z.string().nullable(),
  findingIds: z.array(z.string()),
  evaluationErrors: z.array(z.object({ policyId: z.string(), message: z.string() })),
  correlationId: z.string().nullable(),
});
export type EventRecord = z.infer<typeof eventRecordSchema>;
