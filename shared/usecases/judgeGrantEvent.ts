import type { Principals, RoleAssignments, RoleDefinitions } from "../facts/sources.js";
import { buildFacts, gatherContext, type Facts } from "../facts/build.js";
import type { TenantContext } from "../facts/context.js";
import { lookupPrincipal } from "../facts/principal.js";
import { reconcileFindings, resolveFindings, type JudgementOrigin } from "../findings/lifecycle.js";
import type { Exemption } from "../policy/exemptions.js";
import { carryOutRevocation, failedFindings, finishInterruptedRevocation, planRevocation, revokedFindings, type RevocationDependencies } from "../response/revoke.js";
import type { Revocation } from "../response/revocations.js";
import { nextState, retryOnConflict, type EventLedger, type FindingsStore } from "../findings/store.js";
import { deletedRoleDefinition, type RoleAssignment } from "../model/access.js";
import { parseGrantEvent, type GrantEvent } from "../model/event.js";
import type { EventRecord, Finding } from "../model/finding.js";
import { evaluatePolicies, type PolicyEvaluationError } from "../policy/evaluate.js";
import type { Policy } from "../policy/policy.js";
import { describeError } from "../errors.js";
import type { AccessHistory } from "../findings/access.js";

/** What judging one event needs: the adapters, the loaded policies and a clock. */
export interface JudgeDependencies {
  readonly roleAssignments: RoleAssignments;
  readonly roleDefinitions: RoleDefinitions;
  readonly principals: Principals;
  readonly findings: FindingsStore;
  readonly ledger: EventLedger;
  readonly policies: readonly Policy[];
  readonly exemptions: readonly Exemption[];
  /** Tenant-wide facts (scope counts, PIM, duplicate roles, workloads). */
  readonly context: TenantContext;
  /** Revocation: backups, the writer and the guard rails (audit mode only records what it would do). */
  readonly revocation: RevocationDependencies;
  readonly now: () => Date;
  /** The access history, when kept: each judged write and delete records who held what, when. */
  readonly access?: AccessHistory;
}

/** What happened to one event. Azure failures are thrown, so the platform redelivers the event. */
export type JudgeOutcome =
  | { readonly status: "judged"; readonly eventId: string; readonly assignment: RoleAssignment; readonly facts: Facts; readonly matched: number; readonly open: readonly Finding[]; readonly resolved: readonly Finding[]; readonly evaluationErrors: readonly PolicyEvaluationError[]; readonly revocation: Revocation | null }
  | { readonly status: "assignmentGone"; readonly eventId: string; readonly assignmentId: string; readonly resolved: readonly Finding[]; readonly reason: string }
  | { readonly status: "resolved"; readonly eventId: string; readonly assignmentId: string; readonly resolved: readonly Finding[]; readonly reason: string }
  | { readonly status: "rejected"; readonly eventId: string; readonly reason: string };

/**
 * Judges one delivered role-assignment event: reads the assignment, its role and principal,
 * evaluates the policies and writes the findings. Idempotent: a duplicate changes nothing.
 */
export async function judgeGrantEvent(raw: unknown, deps: JudgeDependencies): Promise<JudgeOutcome> {
  const receivedAt = deps.now().toISOString();
  const parsed = parseGrantEvent(raw);
  if (parsed.status === "rejected") {
    await deps.ledger.record({
      eventId: parsed.eventId,
      receivedAt,
      eventType: parsed.eventType,
      eventTime: null,
      outcome: "rejected",
      reason: parsed.reason,
      assignmentId: null,
      findingIds: [],
      evaluationErrors: [],
      correlationId: null,
    });
    return { status: "rejected", eventId: parsed.eventId, reason: parsed.reason };
  }

  const event = parsed.event;
  // Many instances judge at once and Event Grid does not order events: each judgement reads what
  // is stored about the assignment, then commits conditionally. A concurrent judgement that
  // committed first makes this one read and judge again, so a state change is written once.
  const base = { eventId: event.eventId, receivedAt, eventType: event.eventType, eventTime: event.eventTime, assignmentId: event.assignmentId, correlationId: event.correlationId };
  // The ledger row is written beside the commit that settles the event (one round trip, not
  // two); a try that loses a race is rewritten by the next one.
  const record = (outcome: Settled) => deps.ledger.record({ ...base, ...ledgerEntry(outcome, deps.policies.length) });
  try {
    return await retryOnConflict(`the findings of ${event.assignmentId}`, () => judgeOnce(event, deps, record));
  } catch (error) {
    // The delivery fails and Event Grid redelivers it; until then the ledger says why. Recording
    // is best effort here: the error that matters is the one rethrown.
    await deps.ledger.record({ ...base, outcome: "failed", reason: `not judged yet, the delivery is retried: ${describeError(error)}`, findingIds: [], evaluationErrors: [] }).catch(() => undefined);
    throw error;
  }
}

/**
 * The access history's part of an event: an assignment seen in ARM is held; a delete ends it.
 * Written beside the findings' commit (in the same round trip): it records what ARM and the event
 * say, whoever wins the commit, and is idempotent, so a retry or a redelivery repeats it safely.
 */
async function recordAccess(outcome: Settled, event: GrantEvent, deps: JudgeDependencies): Promise<void> {
  if (!deps.access) return;
  if (outcome.status === "judged") {
    const by = event.grantedBy;
    const grantedBy = by?.upn ?? by?.name ?? by?.appId ?? by?.objectId ?? outcome.assignment.createdBy;
    await deps.access.recordPresent({ assignment: outcome.assignment, roleName: outcome.facts.role.name, grantedBy }, deps.now().toISOString(), "event");
  } else if (outcome.status === "resolved") {
    await deps.access.recordDeleted(event.assignmentId, event.eventTime);
  }
}

function ledgerEntry(outcome: Settled, policies: number): Pick<EventRecord, "outcome" | "reason" | "findingIds" | "evaluationErrors"> {
  const response = outcome.status === "judged" && outcome.revocation ? `; revocation ${outcome.revocation.id}: ${outcome.revocation.status}${outcome.revocation.detail ? ` (${outcome.revocation.detail})` : ""}` : "";
  return {
    outcome: outcome.status,
    reason: outcome.status === "judged" ? `${outcome.matched} of ${policies} policies matched${response}` : outcome.reason,
    findingIds: (outcome.status === "judged" ? outcome.open : outcome.resolved).map((f) => f.id),
    evaluationErrors: outcome.status === "judged" ? [...outcome.evaluationErrors] : [],
  };
}

/** Runs the commit and the ledger write (and the access history's) together; all settle before any failure is thrown. */
async function together(commit: Promise<boolean>, record: Promise<void>, access: Promise<void> = Promise.resolve()): Promise<boolean> {
  const [committed, recorded, accessed] = await Promise.allSettled([commit, record, access]);
  if (committed.status === "rejected") throw committed.reason;
  if (recorded.status === "rejected") throw recorded.reason;
  if (accessed.status === "rejected") throw accessed.reason;
  return committed.value;
}

type Settled = Exclude<JudgeOutcome, { status: "rejected" }>;

/** One judgement of an event against what is stored; undefined when a concurrent one committed first. */
async function judgeOnce(event: GrantEvent, deps: JudgeDependencies, record: (outcome: Settled) => Promise<void>): Promise<Settled | undefined> {
  // What is stored is read before (or with) ARM: a delete committed after this read makes the commit below conflict.
  const [stored, found] = await Promise.all([deps.findings.read(event.assignmentId), event.kind === "write" ? deps.roleAssignments.getById(event.assignmentId) : null]);
  const origin: JudgementOrigin = { eventId: event.eventId, time: event.eventTime, correlationId: event.correlationId, grantedBy: event.grantedBy };
  const commit = (findings: readonly Finding[], deleted = false) => deps.findings.commit(stored, { state: nextState(stored.state, event.eventTime, deleted), findings });
  const settle = async <T extends Settled>(outcome: T, findings: readonly Finding[], deleted = false) => ((await together(commit(findings, deleted), record(outcome), recordAccess(outcome, event, deps))) ? outcome : undefined);

  if (event.kind === "delete") {
    const resolved = resolveFindings(stored.findings, origin, "the role assignment was deleted");
    return settle({ status: "resolved", eventId: event.eventId, assignmentId: event.assignmentId, resolved, reason: `assignment deleted; ${resolved.length} finding(s) resolved` }, resolved, true);
  }

  // A write older than a delete already judged cannot bring the assignment back, unless ARM shows it created after that delete.
  const deletedAt = stored.state?.deletedAt;
  const superseded = found !== null && deletedAt !== null && deletedAt !== undefined && deletedAt >= event.eventTime && !(found.createdOn !== null && found.createdOn > deletedAt);
  if (found === null || superseded) {
    // Gone because grantguard deleted it and a delivery has not recorded that yet? Then finish the record.
    const finished = await finishInterruptedRevocation(deps.revocation, event.assignmentId, event.eventTime, stored.findings);
    const finishedIds = new Set(finished?.map((f) => f.id));
    const why = superseded ? "a later delete of the assignment was already judged" : "the role assignment no longer exists";
    const resolved = [...(finished ?? []), ...resolveFindings(stored.findings.filter((f) => !finishedIds.has(f.id)), origin, why)];
    const reason = finished
      ? "ARM answered 404: grantguard's own revocation had deleted it; its findings are now recorded as revoked"
      : superseded
        ? `superseded: the assignment was deleted at ${deletedAt}, after this write`
        : "ARM answered 404: the assignment was already gone when the event was judged";
    return settle({ status: "assignmentGone", eventId: event.eventId, assignmentId: event.assignmentId, resolved, reason }, resolved);
  }
  const assignment = found;

  // One round trip: the role, the principal and the tenant-wide facts are read together.
  const rolePromise = deps.roleDefinitions.getById(assignment.roleDefinitionId).then((d) => d ?? deletedRoleDefinition(assignment.roleDefinitionId));
  const principalPromise = lookupPrincipal(deps.principals, assignment, { now: deps.now });
  const [role, principal, context] = await Promise.all([rolePromise, principalPromise, gatherContext(deps.context, assignment, rolePromise, principalPromise)]);
  const facts = buildFacts({ assignment, role, principal, grantedBy: event.grantedBy, tenantId: event.tenantId, context });
  const evaluation = evaluatePolicies(deps.policies, facts);
  const { matched, resolved } = reconcileFindings(stored.findings, evaluation.matches, { assignment, facts, origin, exemptions: deps.exemptions, now: deps.now() });

  // The findings are stored before anything is deleted: whatever ARM answers, nothing is lost.
  const plan = await planRevocation(deps.revocation, { assignment, facts, findings: matched, eventId: event.eventId });
  const judged = { status: "judged" as const, eventId: event.eventId, assignment, facts, resolved, evaluationErrors: evaluation.errors, matched: evaluation.matches.length };
  if (!plan.revocation) return settle({ ...judged, open: plan.findings, revocation: null }, [...plan.findings, ...resolved]);
  if (!(await together(commit([...plan.findings, ...resolved]), Promise.resolve(), recordAccess({ ...judged, open: plan.findings, revocation: null }, event, deps)))) return undefined;

  const result = await carryOutRevocation(deps.revocation, plan.revocation);
  const at = event.eventTime;
  // Record the outcome on the findings as they are stored now (a concurrent delivery may have moved them).
  return retryOnConflict(`the findings of ${event.assignmentId}`, async () => {
    const now = await deps.findings.read(event.assignmentId);
    const updated = result.status === "deleted" ? revokedFindings(now.findings, result.revocation.id, at) : failedFindings(now.findings, result.revocation.id, result.detail, deps.now().toISOString());
    // The outcome shows what is stored: a concurrent delivery may have recorded the revocation first.
    const outcome = { ...judged, open: mergeById(mergeById(plan.findings, now.findings), updated), revocation: result.revocation };
    return (await together(deps.findings.commit(now, { state: nextState(now.state, event.eventTime, false), findings: updated }), record(outcome))) ? outcome : undefined;
  });
}

function mergeById(base: readonly Finding[], updates: readonly Finding[]): Finding[] {
  const byId = new Map(updates.map((f) => [f.id, f]));
  return base.map((f) => byId.get(f.id) ?? f);
}
