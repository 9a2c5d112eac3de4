import type { Finding } from "../model/finding.js";
import type { Breaker, Revocation } from "../response/revocations.js";
import type { JsonValue } from "./canonical.js";
import { canonicalJson } from "./canonical.js";
import type { AuditEntry } from "./record.js";
import { sha256Hex } from "./record.js";

/** The actor of changes grantguard makes on its own (judgements, sweeps, revocations). */
export const SYSTEM_ACTOR = "grantguard";

// A finding's observations move on every judgement (last seen, the event that last saw it, the
// facts' current values, the outbox's bookkeeping); those are not state changes and are not
// trailed. Every other field is: status, severity, action, resolution, exemption, response,
// backup, and whatever a later field records (an acknowledgement, say) unless listed here.
const OBSERVATIONS: ReadonlySet<string> = new Set(["lastSeen", "lastEventId", "correlationId", "matchedFacts", "reason", "alertPending", "alertTransition", "alertAt", "principalName", "roleName", "policyTitle", "grantedBy", "grantedByObjectId", "grantedByIpAddress"]);
const LONGEST_TEXT = 2_000;

function clipped(value: unknown): JsonValue {
  if (typeof value === "string") return value.length > LONGEST_TEXT ? `${value.slice(0, LONGEST_TEXT)}… [${value.length} characters]` : value;
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  return clipped(JSON.stringify(value) ?? null);
}

/** The state of a finding the trail keeps: every field but the observations. */
function findingState(finding: Finding): Record<string, JsonValue> {
  const state: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(finding)) if (!OBSERVATIONS.has(key) && value !== undefined) state[key] = clipped(value);
  return state;
}

/**
 * The trail entry for writing `after` over `before` (null: a new finding) by `actor`, or null
 * when only observations moved. Its id is derived from the finding, the state before and after, and the event
 * behind it, so the same change computed again (a retried commit) is the same entry.
 */
export function findingChange(before: Finding | null, after: Finding, at: string, actor: string = SYSTEM_ACTOR): AuditEntry | null {
  const was = before ? findingState(before) : null;
  const now = findingState(after);
  const changed = Object.keys(now).filter((key) => was === null || canonicalJson(was[key] ?? null) !== canonicalJson(now[key] ?? null));
  if (was !== null && changed.length === 0) return null;
  const kind =
    before === null ? "finding.opened"
    : before.status !== after.status ? (after.status === "open" ? "finding.reopened" : `finding.${after.status}`)
    : before.responseKind !== after.responseKind ? "finding.response"
    : "finding.updated";
  const fingerprint = sha256Hex(canonicalJson({ before: was, after: now, event: after.lastEventId }));
  return {
    id: `finding.${after.id}.${fingerprint.slice(0, 32)}`,
    kind,
    at,
    actor,
    subject: after.assignmentId,
    data: { findingId: after.id, changed, state: now, eventId: after.lastEventId, ...(was ? { before: Object.fromEntries(changed.map((key) => [key, was[key] ?? null])) } : {}) },
  };
}

/** The trail entry for a revocation whose status moved from `before` (null: it was just recorded) to `after`; null when the status stayed. */
export function revocationChange(before: Revocation | null, after: Revocation, at: string): AuditEntry | null {
  if (before !== null && before.status === after.status) return null;
  const byPerson = after.status === "restoring" || after.status === "restored";
  return {
    // A revocation passes each status at most once (pending → deleted → restoring → restored).
    id: `revocation.${after.id}.${after.status}`,
    kind: `revocation.${after.status}`,
    at,
    actor: byPerson && after.restoredBy ? after.restoredBy : SYSTEM_ACTOR,
    subject: after.assignmentId,
    data: {
      revocationId: after.id,
      from: before?.status ?? null,
      status: after.status,
      detail: clipped(after.detail),
      policyIds: [...after.policyIds],
      scope: after.scope,
      principalId: after.principalId,
      principalType: after.principalType,
      roleDefinitionId: after.roleDefinitionId,
      eventId: after.eventId,
      ...(byPerson ? { reason: clipped(after.restoreReason), requestedAt: after.restoreRequestedAt, restoredAt: after.restoredAt } : {}),
    },
  };
}

/** The trail entries for the breaker moving from `before` to `after`: it tripped, or a person re-armed it. */
export function breakerChanges(before: Breaker, after: Breaker, at: string): AuditEntry[] {
  const entries: AuditEntry[] = [];
  if (after.tripped && !before.tripped) {
    entries.push({ id: `breaker.tripped.${after.trippedAt ?? at}`, kind: "breaker.tripped", at, actor: SYSTEM_ACTOR, subject: "revocation breaker", data: { reason: clipped(after.reason), trippedBy: after.trippedBy, trippedAt: after.trippedAt } });
  }
  if (after.rearmedAt !== null && after.rearmedAt !== before.rearmedAt) {
    entries.push({ id: `breaker.rearmed.${after.rearmedAt}`, kind: "breaker.rearmed", at, actor: after.rearmedBy ?? SYSTEM_ACTOR, subject: "revocation breaker", data: { wasTripped: before.tripped, reason: clipped(after.rearmReason), rearmedAt: after.rearmedAt } });
  }
  return entries;
}
