import type { RoleAssignments, RoleDefinitions } from "../azure/arm.js";
import type { Principals } from "../azure/graph.js";
import { buildFacts, gatherContext, type Facts } from "../facts/build.js";
import type { TenantContext } from "../facts/context.js";
import { lookupPrincipal } from "../facts/principal.js";
import { findingFromMatch, resolveFindings, type JudgementOrigin } from "../findings/lifecycle.js";
import { exemptionFor, type Exemption } from "../policy/exemptions.js";
import { finishInterruptedRevocation, revokeIfRequired, type RevocationDependencies } from "../response/revoke.js";
import type { Revocation } from "../response/revocations.js";
import type { EventLedger, FindingsStore } from "../findings/store.js";
import type { RoleAssignment, RoleDefinition } from "../model/access.js";
import { parseGrantEvent } from "../model/event.js";
import { findingId, type EventRecord, type Finding } from "../model/finding.js";
import { evaluatePolicies, type PolicyEvaluationError } from "../policy/evaluate.js";
import type { Policy } from "../policy/policy.js";

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
}

/** What happened to one event. Azure failures are thrown, so the platform redelivers the event. */
export type JudgeOutcome =
  | { readonly status: "judged"; readonly eventId: string; readonly assignment: RoleAssignment; readonly facts: Facts; readonly open: readonly Finding[]; readonly resolved: readonly Finding[]; readonly evaluationErrors: readonly PolicyEvaluationError[]; readonly revocation: Revocation | null }
  | { readonly status: "assignmentGone"; readonly eventId: string; readonly assignmentId: string; readonly resolved: readonly Finding[] }
  | { readonly status: "resolved"; readonly eventId: string; readonly assignmentId: string; readonly resolved: readonly Finding[] }
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
  const record = (entry: Pick<EventRecord, "outcome" | "reason" | "findingIds" | "evaluationErrors">) =>
    deps.ledger.record({ eventId: event.eventId, receivedAt, eventType: event.eventType, eventTime: event.eventTime, assignmentId: event.assignmentId, correlationId: event.correlationId, ...entry });
  const existing = await deps.findings.list({ assignmentId: event.assignmentId });
  const origin: JudgementOrigin = { eventId: event.eventId, time: event.eventTime, correlationId: event.correlationId, grantedBy: event.grantedBy };

  if (event.kind === "delete") {
    const resolved = resolveFindings(existing, origin, "the role assignment was deleted");
    await deps.findings.upsert(resolved);
    await record({ outcome: "resolved", reason: `assignment deleted; ${resolved.length} finding(s) resolved`, findingIds: resolved.map((f) => f.id), evaluationErrors: [] });
    return { status: "resolved", eventId: event.eventId, assignmentId: event.assignmentId, resolved };
  }

  const assignment = await deps.roleAssignments.getById(event.assignmentId);
  if (assignment === null) {
    // Gone because grantguard deleted it and died before recording that? Then finish the record.
    const finished = await finishInterruptedRevocation(deps.revocation, event.assignmentId, event.eventTime, existing);
    const finishedIds = new Set(finished?.map((f) => f.id));
    const resolved = [...(finished ?? []), ...resolveFindings(existing.filter((f) => !finishedIds.has(f.id)), origin, "the role assignment no longer exists")];
    await deps.findings.upsert(resolved);
    const reason = finished ? "ARM answered 404: grantguard's own interrupted revocation had deleted it; its findings are now recorded as revoked" : "ARM answered 404: the assignment was already gone when the event was judged";
    await record({ outcome: "assignmentGone", reason, findingIds: resolved.map((f) => f.id), evaluationErrors: [] });
    return { status: "assignmentGone", eventId: event.eventId, assignmentId: event.assignmentId, resolved };
  }

  const [found, principal] = await Promise.all([deps.roleDefinitions.getById(assignment.roleDefinitionId), lookupPrincipal(deps.principals, assignment, { now: deps.now })]);
  const role = found ?? deletedRole(assignment.roleDefinitionId);
  const context = await gatherContext(deps.context, assignment, role, principal);
  const facts = buildFacts({ assignment, role, principal, grantedBy: event.grantedBy, tenantId: event.tenantId, context });
  const evaluation = evaluatePolicies(deps.policies, facts);

  const byId = new Map(existing.map((f) => [f.id, f]));
  const now = deps.now();
  const matched = evaluation.matches.map((match) =>
    findingFromMatch(match, assignment, facts, origin, byId.get(findingId(match.policy.id, assignment.id)), exemptionFor(deps.exemptions, match.policy.id, assignment, now)),
  );
  const openIds = new Set(matched.map((f) => f.id));
  const resolved = resolveFindings(existing.filter((f) => !openIds.has(f.id)), origin, "the policy no longer matches the assignment");
  const { findings: open, revocation } = await revokeIfRequired(deps.revocation, { assignment, facts, findings: matched, eventId: event.eventId, at: event.eventTime });
  await deps.findings.upsert([...open, ...resolved]);
  const response = revocation ? `; revocation ${revocation.id}: ${revocation.status}${revocation.detail ? ` (${revocation.detail})` : ""}` : "";
  await record({
    outcome: "judged",
    reason: `${evaluation.matches.length} of ${deps.policies.length} policies matched${response}`,
    findingIds: open.map((f) => f.id),
    evaluationErrors: [...evaluation.errors],
  });
  return { status: "judged", eventId: event.eventId, assignment, facts, open, resolved, evaluationErrors: evaluation.errors, revocation };
}

// A role assignment can outlive its custom role; judge it with no permissions rather than drop it.
export function deletedRole(roleDefinitionId: string): RoleDefinition {
  return { id: roleDefinitionId, name: roleDefinitionId.split("/").pop() ?? "", roleName: "(deleted role definition)", roleType: "Unknown", description: null, permissions: [], assignableScopes: [] };
}
