import { createHash } from "node:crypto";
import type { ResponseConfig } from "../config.js";
import { RoleAssignmentConflictError, type RoleAssignmentWriter } from "../azure/arm.js";
import type { Facts } from "../facts/build.js";
import type { RoleAssignment } from "../model/access.js";
import type { Finding } from "../model/finding.js";
import { alertId, portalUrl, type Alert } from "./alert.js";
import type { Revocation, RevocationStore } from "./revocations.js";

/** What revoking needs: where backups live, who may delete, the guard rails, a clock, and a way to raise alerts. */
export interface RevocationDependencies {
  readonly revocations: RevocationStore;
  readonly writer: RoleAssignmentWriter;
  readonly response: ResponseConfig;
  /** grantguard's own object id (never revoked); null when unknown. */
  readonly selfPrincipalId: () => Promise<string | null>;
  /** Raises an alert that is not about one finding (the breaker tripping). */
  readonly raise: (alert: Alert) => Promise<void>;
  readonly now: () => Date;
}

const norm = (scope: string) => scope.replace(/\/+$/, "").toLowerCase() || "/";
const within = (scope: string, parent: string) => norm(parent) === "/" || norm(scope) === norm(parent) || norm(scope).startsWith(`${norm(parent)}/`);

/** The revocation id for an assignment judged by an event: a redelivery finds the same backup. */
export function revocationId(assignmentId: string, eventId: string | null): string {
  return createHash("sha256").update(`${assignmentId.toLowerCase()}|${eventId ?? ""}`).digest("hex").slice(0, 32);
}

function withResponse(findings: readonly Finding[], ids: ReadonlySet<string>, kind: Finding["responseKind"], detail: string | null): Finding[] {
  return findings.map((f) => (ids.has(f.id) ? { ...f, responseKind: kind, responseDetail: detail, backupId: null } : f));
}

/**
 * Every finding of the assignment, resolved because grantguard revoked it. A finding not yet
 * announced is announced once, as opened-and-revoked; one already announced gets a new
 * announcement of its resolution.
 */
function revokedFindings(findings: readonly Finding[], backupId: string, at: string): Finding[] {
  return findings.map((f) => {
    if (f.status === "resolved") return f;
    const announce = f.alertPending ? { alertTransition: f.alertTransition ?? ("opened" as const), alertAt: f.alertAt ?? at } : { alertTransition: "resolved" as const, alertAt: at };
    return { ...f, status: "resolved" as const, resolvedAt: at, resolution: `revoked by grantguard (backup ${backupId})`, responseKind: "revoked" as const, responseDetail: null, backupId, alertPending: true, ...announce };
  });
}

/** Why a guard rail stops the revocation of this assignment, or null when none does. */
async function guardRail(deps: RevocationDependencies, assignment: RoleAssignment, facts: Facts): Promise<string | null> {
  const breaker = await deps.revocations.getBreaker();
  if (breaker.tripped) return `revocation is stopped since ${breaker.trippedAt} (${breaker.reason}); a person must re-arm it: npx grantguard rearm --reason "<why>"`;
  const principal = assignment.principalId.toLowerCase();
  const self = (await deps.selfPrincipalId())?.toLowerCase();
  if (principal === self) return "the principal is grantguard's own identity, which it never revokes";
  if (deps.response.protectedPrincipals.includes(principal)) return "the principal is protected (GRANTGUARD_PROTECTED_PRINCIPALS)";
  const scope = deps.response.protectedScopes.find((s) => within(assignment.scope, s));
  if (scope) return `the scope is protected (GRANTGUARD_PROTECTED_SCOPES: ${scope})`;
  if (facts.assignment.viaPim === true) return "the assignment was made through PIM: grantguard does not delete behind PIM's back; end it in PIM";
  // Fail closed: what cannot be told apart from a PIM assignment is not deleted.
  if (facts.assignment.viaPim === null) return "PIM could not be read at this scope, so grantguard cannot tell whether PIM made this assignment; grant it Microsoft.Authorization/roleAssignmentScheduleInstances/read (Reader includes it)";
  const restored = (await deps.revocations.list({ assignmentId: assignment.id })).find((r) => r.status === "restored");
  if (restored) return `a person restored this assignment after grantguard revoked it (${restored.restoredBy}, ${restored.restoredAt}: ${restored.restoreReason}); grantguard does not revoke it again`;
  return null;
}

/**
 * Revokes the assignment when a revoke policy newly matches it, the mode is enforce and every
 * guard rail allows: back it up, count it against the cap, delete it, and record the outcome on
 * the findings. Returns the findings to store. In audit mode it records what it would have done.
 */
export async function revokeIfRequired(deps: RevocationDependencies, input: { assignment: RoleAssignment; facts: Facts; findings: readonly Finding[]; eventId: string | null; at: string }): Promise<{ findings: Finding[]; revocation: Revocation | null }> {
  const { assignment, facts, findings, eventId, at } = input;
  // Every open match of a revoke policy not yet revoked: newly opened, or blocked before (the guard rails decide again).
  const targets = new Set(findings.filter((f) => f.action === "revoke" && f.status === "open" && f.responseKind !== "revoked").map((f) => f.id));
  if (targets.size === 0) return { findings: [...findings], revocation: null };
  if (deps.response.mode === "audit") {
    return { findings: withResponse(findings, targets, "wouldRevoke", "audit mode: grantguard would have revoked this assignment; set GRANTGUARD_MODE=enforce to revoke"), revocation: null };
  }
  const blocked = await guardRail(deps, assignment, facts);
  if (blocked) return { findings: withResponse(findings, targets, "revocationBlocked", blocked), revocation: null };

  const id = revocationId(assignment.id, eventId);
  const now = deps.now().toISOString();
  let backup = await deps.revocations.get(id);
  if (!backup) {
    backup = {
      id,
      assignmentId: assignment.id,
      assignmentName: assignment.name,
      scope: assignment.scope,
      principalId: assignment.principalId,
      principalType: assignment.principalType,
      roleDefinitionId: assignment.roleDefinitionId,
      condition: assignment.condition,
      conditionVersion: assignment.conditionVersion,
      description: assignment.description,
      delegatedManagedIdentityResourceId: assignment.delegatedManagedIdentityResourceId,
      status: "pending",
      detail: null,
      policyIds: findings.filter((f) => targets.has(f.id)).map((f) => f.policyId),
      findings: [...findings],
      eventId,
      createdAt: now,
      deletedAt: null,
      restoredAt: null,
      restoredBy: null,
      restoreReason: null,
    };
    // The backup is stored before anything is deleted.
    await deps.revocations.put(backup);
  }

  // The cap counts every revocation decided in the window, this one's rivals included, and
  // starts afresh when a person re-arms it.
  const breaker = await deps.revocations.getBreaker();
  const windowEdge = new Date(deps.now().getTime() - deps.response.revocationWindowMs).toISOString();
  const windowStart = breaker.rearmedAt && breaker.rearmedAt > windowEdge ? breaker.rearmedAt : windowEdge;
  const recent = (await deps.revocations.list({ createdSince: windowStart })).filter((r) => r.id !== id && (r.status === "pending" || r.status === "deleted"));
  if (recent.length >= deps.response.maxRevocations) {
    const reason = `${recent.length} revocation(s) in the last ${deps.response.revocationWindowMs / 60_000} minutes reached GRANTGUARD_MAX_REVOCATIONS=${deps.response.maxRevocations}`;
    await deps.revocations.putBreaker({ tripped: true, trippedAt: now, reason, rearmedAt: null, rearmedBy: null, rearmReason: null });
    await deps.revocations.put({ ...backup, status: "blocked", detail: `blast-radius cap: ${reason}` });
    await deps.raise(breakerAlert(assignment, reason, now));
    return { findings: withResponse(findings, targets, "revocationBlocked", `blast-radius cap tripped: ${reason}; revocation is stopped until a person re-arms it`), revocation: { ...backup, status: "blocked" } };
  }

  try {
    await deps.writer.deleteById(assignment.id);
  } catch (error) {
    if (!(error instanceof RoleAssignmentConflictError)) throw error; // transient: the event is redelivered and this resumes
    await deps.revocations.put({ ...backup, status: "failed", detail: error.message });
    return { findings: withResponse(findings, targets, "revocationFailed", error.message), revocation: { ...backup, status: "failed" } };
  }
  const deleted: Revocation = { ...backup, status: "deleted", deletedAt: deps.now().toISOString() };
  await deps.revocations.put(deleted);
  return { findings: revokedFindings(findings, id, at), revocation: deleted };
}

/**
 * When an assignment is found gone and a revocation of it was backed up but its findings were
 * never stored (the process died after the delete), finishes it: the findings saved with the
 * backup are stored as revoked. `stored` are the assignment's findings as stored now. Returns the
 * findings to store, or null when there is nothing to finish.
 */
export async function finishInterruptedRevocation(deps: Pick<RevocationDependencies, "revocations" | "now">, assignmentId: string, at: string, stored: readonly Finding[]): Promise<Finding[] | null> {
  const recorded = new Set(stored.map((f) => f.backupId).filter((id): id is string => id !== null));
  const unfinished = (await deps.revocations.list({ assignmentId })).filter((r) => (r.status === "pending" || r.status === "deleted") && !recorded.has(r.id));
  const latest = unfinished.at(-1);
  if (!latest) return null;
  if (latest.status === "pending") await deps.revocations.put({ ...latest, status: "deleted", deletedAt: deps.now().toISOString() });
  return revokedFindings(latest.findings, latest.id, at);
}

function breakerAlert(assignment: RoleAssignment, reason: string, at: string): Alert {
  const findingId = "grantguard.revocation-breaker";
  return {
    id: alertId(findingId, "opened", at),
    findingId,
    transition: "opened",
    at,
    severity: "critical",
    policyId: "grantguard-revocation-cap",
    policyTitle: "Revocation stopped: the blast-radius cap tripped",
    reason: `${reason}. grantguard revokes nothing more until a person re-arms it. The assignment that tripped the cap was kept.`,
    principal: { id: assignment.principalId, type: assignment.principalType, name: null },
    role: { id: assignment.roleDefinitionId, name: assignment.roleDefinitionId.split("/").pop() ?? "" },
    scope: assignment.scope,
    scopeLevel: "",
    subscriptionId: /^\/subscriptions\/([^/]+)/i.exec(assignment.scope)?.[1]?.toLowerCase() ?? null,
    grantedBy: null,
    grantedByIpAddress: null,
    mode: "enforce",
    response: { kind: "revocationBlocked", detail: "blast-radius cap" },
    lookup: { findingId, command: 'npx grantguard rearm --reason "<why it is safe again>"', portalUrl: portalUrl(assignment.scope) },
  };
}
