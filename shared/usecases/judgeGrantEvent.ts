import type { RoleAssignments, RoleDefinitions } from "../azure/arm.js";
import type { Principals } from "../azure/graph.js";
import { buildFacts, type Facts } from "../facts/build.js";
import type { EventLedger, FindingsStore } from "../findings/store.js";
import type { RoleAssignment, RoleDefinition } from "../model/access.js";
import { parseGrantEvent, type GrantEvent } from "../model/event.js";
import { findingId, type EventRecord, type Finding } from "../model/finding.js";
import { evaluatePolicies, explainMatch, type PolicyEvaluationError, type PolicyMatch } from "../policy/evaluate.js";
import type { Policy } from "../policy/policy.js";
import { parseScope } from "../facts/scope.js";

/** What judging one event needs: the adapters, the loaded policies and a clock. */
export interface JudgeDependencies {
  readonly roleAssignments: RoleAssignments;
  readonly roleDefinitions: RoleDefinitions;
  readonly principals: Principals;
  readonly findings: FindingsStore;
  readonly ledger: EventLedger;
  readonly policies: readonly Policy[];
  readonly now: () => Date;
}

/** What happened to one event. Azure failures are thrown, so the platform redelivers the event. */
export type JudgeOutcome =
  | { readonly status: "judged"; readonly eventId: string; readonly assignment: RoleAssignment; readonly facts: Facts; readonly open: readonly Finding[]; readonly resolved: readonly Finding[]; readonly evaluationErrors: readonly PolicyEvaluationError[] }
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

  if (event.kind === "delete") {
    const resolved = resolve(existing, event, "the role assignment was deleted");
    await deps.findings.upsert(resolved);
    await record({ outcome: "resolved", reason: `assignment deleted; ${resolved.length} finding(s) resolved`, findingIds: resolved.map((f) => f.id), evaluationErrors: [] });
    return { status: "resolved", eventId: event.eventId, assignmentId: event.assignmentId, resolved };
  }

  const assignment = await deps.roleAssignments.getById(event.assignmentId);
  if (assignment === null) {
    const resolved = resolve(existing, event, "the role assignment no longer exists");
    await deps.findings.upsert(resolved);
    await record({ outcome: "assignmentGone", reason: "ARM answered 404: the assignment was already gone when the event was judged", findingIds: resolved.map((f) => f.id), evaluationErrors: [] });
    return { status: "assignmentGone", eventId: event.eventId, assignmentId: event.assignmentId, resolved };
  }

  const [role, principal] = await Promise.all([deps.roleDefinitions.getById(assignment.roleDefinitionId), deps.principals.getById(assignment.principalId)]);
  const facts = buildFacts({ assignment, role: role ?? deletedRole(assignment.roleDefinitionId), principal, grantedBy: event.grantedBy, tenantId: event.tenantId });
  const evaluation = evaluatePolicies(deps.policies, facts);

  const byId = new Map(existing.map((f) => [f.id, f]));
  const open = evaluation.matches.map((match) => openFinding(match, assignment, facts, event, byId.get(findingId(match.policy.id, assignment.id))));
  const openIds = new Set(open.map((f) => f.id));
  const resolved = resolve(existing.filter((f) => !openIds.has(f.id)), event, "the policy no longer matches the assignment");
  await deps.findings.upsert([...open, ...resolved]);
  await record({
    outcome: "judged",
    reason: `${evaluation.matches.length} of ${deps.policies.length} policies matched`,
    findingIds: open.map((f) => f.id),
    evaluationErrors: [...evaluation.errors],
  });
  return { status: "judged", eventId: event.eventId, assignment, facts, open, resolved, evaluationErrors: evaluation.errors };
}

// A role assignment can outlive its custom role; judge it with no permissions rather than drop it.
function deletedRole(roleDefinitionId: string): RoleDefinition {
  return { id: roleDefinitionId, name: roleDefinitionId.split("/").pop() ?? "", roleName: "(deleted role definition)", roleType: "Unknown", description: null, permissions: [], assignableScopes: [] };
}

const earliest = (a: string, b: string) => (a < b ? a : b);
const latest = (a: string, b: string) => (a > b ? a : b);

function openFinding(match: PolicyMatch, a: RoleAssignment, facts: Facts, event: GrantEvent, previous: Finding | undefined): Finding {
  const scope = parseScope(a.scope);
  const by = event.grantedBy;
  return {
    id: findingId(match.policy.id, a.id),
    policyId: match.policy.id,
    policyTitle: match.policy.title,
    severity: match.policy.severity,
    status: "open",
    action: match.policy.action,
    assignmentId: a.id,
    assignmentName: a.name,
    principalId: a.principalId,
    principalType: a.principalType,
    principalName: typeof facts.principal.displayName === "string" ? facts.principal.displayName : null,
    roleDefinitionId: a.roleDefinitionId,
    roleName: facts.role.name,
    scope: a.scope,
    scopeLevel: scope.level,
    subscriptionId: scope.subscriptionId,
    reason: explainMatch(match),
    matchedFacts: match.matchedFacts,
    // Event times, not processing times: a redelivered or late event cannot move these backwards.
    firstSeen: previous ? earliest(previous.firstSeen, event.eventTime) : event.eventTime,
    lastSeen: previous ? latest(previous.lastSeen, event.eventTime) : event.eventTime,
    resolvedAt: null,
    resolution: null,
    grantedBy: by.upn ?? by.name ?? by.appId ?? by.objectId ?? a.createdBy,
    grantedByObjectId: by.objectId ?? a.createdBy,
    grantedByIpAddress: by.ipAddress,
    lastEventId: previous && previous.lastSeen > event.eventTime ? previous.lastEventId : event.eventId,
    correlationId: event.correlationId,
  };
}

function resolve(findings: readonly Finding[], event: GrantEvent, resolution: string): Finding[] {
  return findings
    .filter((f) => f.status === "open")
    .map((f) => ({ ...f, status: "resolved" as const, resolvedAt: event.eventTime, resolution, lastEventId: event.eventId }));
}
