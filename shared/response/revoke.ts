import { createHash } from "node:crypto";
import type { ResponseConfig } from "../config.js";
import type { Facts } from "../facts/build.js";
import type { RoleAssignment } from "../model/access.js";
import type { Finding } from "../model/finding.js";
import { alertId, portalUrl, type Alert } from "./alert.js";
import type { Breaker, Revocation, RevocationStore } from "./revocations.js";
import { RoleAssignmentWriteRefusedError, type RoleAssignmentWriter } from "./writer.js";

/** What revoking needs: where backups live, who may delete, the guard rails, a clock, and a way to raise alerts. */
export interface RevocationDependencies {
  readonly revocations: RevocationStore;
  readonly writer: RoleAssignmentWriter;
  readonly response: ResponseConfig;
  /** grantguard's own object id (never revoked); null when it cannot be told (then nothing is revoked). */
  readonly selfPrincipalId: () => Promise<string | null>;
  /** Raises an alert that is not about one finding (the breaker tripping); idempotent by the alert's id. */
  readonly raise: (alert: Alert) => Promise<void>;
  readonly now: () => Date;
}

const norm = (scope: string) => scope.replace(/\/+$/, "").toLowerCase() || "/";
const within = (scope: string, parent: string) => norm(parent) === "/" || norm(scope) === norm(parent) || norm(scope).startsWith(`${norm(parent)}/`);

/**
 * The revocation id of an assignment: its canonical id and creation time, which every event
 * and a sweep agree on. Concurrent deliveries find the same backup; a re-created assignment
 * (same name, new createdOn) gets a new one.
 */
export function revocationId(assignment: Pick<RoleAssignment, "id" | "createdOn">): string {
  return createHash("sha256").update(`${assignment.id.toLowerCase()}|${assignment.createdOn ?? ""}`).digest("hex").slice(0, 32);
}

function withResponse(findings: readonly Finding[], ids: ReadonlySet<string>, kind: Finding["responseKind"], detail: string | null, backupId: string | null = null): Finding[] {
  return findings.map((f) => (ids.has(f.id) ? { ...f, responseKind: kind, responseDetail: detail, backupId } : f));
}

/**
 * Every unresolved finding of the assignment, resolved because grantguard revoked it. A finding
 * not yet announced is announced once, as opened-and-revoked; one already announced gets a new
 * announcement of its resolution.
 */
export function revokedFindings(findings: readonly Finding[], backupId: string, at: string): Finding[] {
  return findings
    .filter((f) => f.status !== "resolved")
    .map((f) => {
      const announce = f.alertPending ? { alertTransition: f.alertTransition ?? ("opened" as const), alertAt: f.alertAt ?? at } : { alertTransition: "resolved" as const, alertAt: at };
      return { ...f, status: "resolved" as const, resolvedAt: at, resolution: `revoked by grantguard (backup ${backupId})`, responseKind: "revoked" as const, responseDetail: null, backupId, alertPending: true, ...announce };
    });
}

/**
 * The findings of a revocation ARM refused: the refusal is recorded on them, and announced
 * (again, when the finding's opening was already sent without it).
 */
export function failedFindings(findings: readonly Finding[], backupId: string, detail: string, at: string): Finding[] {
  return findings
    .filter((f) => f.backupId === backupId && f.responseKind === "revoking")
    .map((f) => ({ ...f, responseKind: "revocationFailed" as const, responseDetail: detail, ...(f.alertPending ? {} : { alertPending: true, alertTransition: f.status === "exempted" ? ("exempted" as const) : ("opened" as const), alertAt: at }) }));
}

/** Why a guard rail stops the revocation of this assignment, or null when none does. The cap is checked apart. */
async function guardRail(deps: RevocationDependencies, assignment: RoleAssignment, facts: Facts): Promise<string | null> {
  const breaker = await deps.revocations.getBreaker();
  if (breaker.tripped) {
    await deps.raise(breakerAlert(breaker));
    return stoppedText(breaker);
  }
  const principal = assignment.principalId.toLowerCase();
  // Fail closed: an identity grantguard cannot tell apart from its own is never deleted.
  const self = (await deps.selfPrincipalId())?.toLowerCase();
  if (!self) return "grantguard cannot tell its own identity (no object id in its token), so it revokes nothing rather than risk locking itself out";
  if (principal === self) return "the principal is grantguard's own identity, which it never revokes";
  if (deps.response.protectedPrincipals.includes(principal)) return "the principal is protected (GRANTGUARD_PROTECTED_PRINCIPALS)";
  const scope = deps.response.protectedScopes.find((s) => within(assignment.scope, s));
  if (scope) return `the scope is protected (GRANTGUARD_PROTECTED_SCOPES: ${scope})`;
  if (facts.assignment.viaPim === true) return "the assignment was made through PIM: grantguard does not delete behind PIM's back; end it in PIM";
  // Fail closed: what cannot be told apart from a PIM assignment is not deleted.
  if (facts.assignment.viaPim === null) return "PIM could not be read at this scope, so grantguard cannot tell whether PIM made this assignment; grant it Microsoft.Authorization/roleAssignmentScheduleInstances/read and roleAssignmentScheduleRequests/read (Reader includes both)";
  const restored = (await deps.revocations.list({ assignmentId: assignment.id })).find((r) => r.status === "restored" || r.status === "restoring");
  if (restored) return `a person restored this assignment after grantguard revoked it (${restored.restoredBy}, ${restored.restoredAt ?? restored.restoreRequestedAt}: ${restored.restoreReason}); grantguard does not revoke it again`;
  return null;
}

const stoppedText = (b: Breaker) => `revocation is stopped since ${b.trippedAt} (${b.reason}); a person must re-arm it: npx grantguard rearm --reason "<why>"`;

/** What the cap says about one revocation: counted (go ahead), or the breaker is (now) tripped. */
type CapDecision = { readonly kind: "counted" } | { readonly kind: "stopped"; readonly breaker: Breaker };

/**
 * Counts a revocation against the cap, exactly: the breaker row holds the ids counted in the
 * window and is rewritten with its ETag, so concurrent revocations cannot all see room. A
 * revocation counted before (a redelivery) is not counted twice.
 */
function countAgainstCap(response: ResponseConfig, id: string, assignmentId: string, now: Date) {
  return (current: Breaker): { next: Breaker | null; result: CapDecision } => {
    if (current.tripped) return { next: null, result: { kind: "stopped", breaker: current } };
    const edge = new Date(now.getTime() - response.revocationWindowMs).toISOString();
    const windowStart = current.rearmedAt && current.rearmedAt > edge ? current.rearmedAt : edge;
    const recent = current.recent.filter((r) => r.at >= windowStart);
    if (recent.some((r) => r.id === id)) return { next: null, result: { kind: "counted" } };
    const at = now.toISOString();
    if (recent.length < response.maxRevocations) return { next: { ...current, recent: [...recent, { id, at }] }, result: { kind: "counted" } };
    const reason = `${recent.length} revocation(s) in the last ${response.revocationWindowMs / 60_000} minutes reached GRANTGUARD_MAX_REVOCATIONS=${response.maxRevocations}`;
    const tripped: Breaker = { ...current, recent, tripped: true, trippedAt: at, reason, trippedBy: assignmentId };
    return { next: tripped, result: { kind: "stopped", breaker: tripped } };
  };
}

/** The plan for one judged assignment: the findings to store first, and the revocation to carry out after (pending), if any. */
export interface RevocationPlan {
  readonly findings: Finding[];
  readonly revocation: Revocation | null;
}

/**
 * Decides what happens to an assignment a revoke policy matches: in audit mode, what it would
 * have done; in enforce mode, every guard rail, the backup (stored once per assignment, whatever
 * the number of deliveries) and the cap. The findings it returns are stored before anything is
 * deleted: a revocation in progress is `revoking` with its backup id.
 */
export async function planRevocation(deps: RevocationDependencies, input: { assignment: RoleAssignment; facts: Facts; findings: readonly Finding[]; eventId: string | null }): Promise<RevocationPlan> {
  const { assignment, facts, findings, eventId } = input;
  // Every open match of a revoke policy not yet revoked: newly opened, or blocked before (the guard rails decide again).
  const targets = new Set(findings.filter((f) => f.action === "revoke" && f.status === "open" && f.responseKind !== "revoked").map((f) => f.id));
  if (targets.size === 0) return { findings: [...findings], revocation: null };
  if (deps.response.mode === "audit") {
    return { findings: withResponse(findings, targets, "wouldRevoke", "audit mode: grantguard would have revoked this assignment; set GRANTGUARD_MODE=enforce to revoke"), revocation: null };
  }
  const blocked = await guardRail(deps, assignment, facts);
  if (blocked) return { findings: withResponse(findings, targets, "revocationBlocked", blocked), revocation: null };

  const id = revocationId(assignment);
  const now = deps.now();
  // The backup is stored before anything is deleted; concurrent deliveries share the first one.
  let backup = await deps.revocations.create({
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
    createdAt: now.toISOString(),
    deletedAt: null,
    restoreRequestedAt: null,
    restoredAt: null,
    restoredBy: null,
    restoreReason: null,
  });
  if (backup.status === "blocked" || backup.status === "failed") {
    // Decided again (the breaker was re-armed, or a refusal may be lifted): pending once more.
    backup = (await deps.revocations.transition(id, ["blocked", "failed"], (r) => ({ ...r, status: "pending", detail: null })))?.revocation ?? backup;
  }
  if (backup.status === "restoring" || backup.status === "restored") {
    return { findings: withResponse(findings, targets, "revocationBlocked", "a person restored this assignment after grantguard revoked it; grantguard does not revoke it again"), revocation: null };
  }

  const cap = await deps.revocations.updateBreaker(countAgainstCap(deps.response, id, assignment.id, now));
  if (cap.kind === "stopped") {
    await deps.revocations.transition(id, ["pending"], (r) => ({ ...r, status: "blocked", detail: `blast-radius cap: ${cap.breaker.reason}` }));
    await deps.raise(breakerAlert(cap.breaker));
    return { findings: withResponse(findings, targets, "revocationBlocked", `blast-radius cap tripped: ${cap.breaker.reason}; revocation is stopped until a person re-arms it`), revocation: null };
  }
  return { findings: withResponse(findings, targets, "revoking", `revocation in progress (backup ${id})`, id), revocation: backup };
}

/** How a planned revocation ended at ARM. Transient failures are thrown: the delivery is retried and this resumes. */
export type RevocationResult = { readonly status: "deleted"; readonly revocation: Revocation } | { readonly status: "failed"; readonly revocation: Revocation; readonly detail: string };

/** Deletes the assignment of a planned (pending) revocation and records the outcome on the backup. */
export async function carryOutRevocation(deps: Pick<RevocationDependencies, "revocations" | "writer" | "now">, revocation: Revocation): Promise<RevocationResult> {
  try {
    await deps.writer.deleteById(revocation.assignmentId);
  } catch (error) {
    if (!(error instanceof RoleAssignmentWriteRefusedError)) throw error;
    const failed = await deps.revocations.transition(revocation.id, ["pending"], (r) => ({ ...r, status: "failed", detail: error.message }));
    return { status: "failed", revocation: failed?.revocation ?? { ...revocation, status: "failed", detail: error.message }, detail: error.message };
  }
  const deleted = await deps.revocations.transition(revocation.id, ["pending", "deleted"], (r) => ({ ...r, status: "deleted", deletedAt: r.deletedAt ?? deps.now().toISOString() }));
  return { status: "deleted", revocation: deleted?.revocation ?? revocation };
}

/**
 * When an assignment is found gone while a revocation of it is unfinished (backed up, maybe
 * deleted, its findings not yet recorded as revoked: the process died, or a concurrent delivery
 * is about to record it), finishes it. `stored` are the assignment's findings as stored now.
 * Returns the findings to store, or null when there is nothing to finish.
 */
export async function finishInterruptedRevocation(deps: Pick<RevocationDependencies, "revocations" | "now">, assignmentId: string, at: string, stored: readonly Finding[]): Promise<Finding[] | null> {
  const recorded = new Set(stored.filter((f) => f.responseKind === "revoked").map((f) => f.backupId));
  const unfinished = (await deps.revocations.list({ assignmentId })).filter((r) => (r.status === "pending" || r.status === "deleted") && !recorded.has(r.id));
  const latest = unfinished.at(-1);
  if (!latest) return null;
  if (latest.status === "pending") await deps.revocations.transition(latest.id, ["pending"], (r) => ({ ...r, status: "deleted", deletedAt: deps.now().toISOString() }));
  // What is stored is the truth; the backup's copy covers findings a crash kept from being stored.
  const storedIds = new Set(stored.map((f) => f.id));
  return revokedFindings([...stored, ...latest.findings.filter((f) => !storedIds.has(f.id))], latest.id, at);
}

/** The one alert of a trip: its id comes from the trip's time, so every instance that sees the trip raises the same alert. */
function breakerAlert(breaker: Breaker): Alert {
  const findingId = "grantguard.revocation-breaker";
  const at = breaker.trippedAt ?? "";
  const assignment = breaker.trippedBy ?? "";
  const scope = assignment.replace(/\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/i, "") || "/";
  return {
    id: alertId(findingId, "opened", at),
    findingId,
    transition: "opened",
    at,
    severity: "critical",
    policyId: "grantguard-revocation-cap",
    policyTitle: "Revocation stopped: the blast-radius cap tripped",
    reason: `${breaker.reason}. grantguard revokes nothing more until a person re-arms it. The assignment that found the cap full was kept: ${assignment}.`,
    principal: { id: "", type: "", name: null },
    role: { id: "", name: "" },
    scope,
    scopeLevel: "",
    subscriptionId: /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1]?.toLowerCase() ?? null,
    grantedBy: null,
    grantedByIpAddress: null,
    mode: "enforce",
    response: { kind: "revocationBlocked", detail: "blast-radius cap" },
    lookup: { findingId, command: 'npx grantguard rearm --reason "<why it is safe again>"', portalUrl: portalUrl(scope) },
  };
}
