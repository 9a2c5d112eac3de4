import type { Facts } from "../facts/build.js";
import { parseScope } from "../facts/scope.js";
import type { RoleAssignment } from "../model/access.js";
import type { GrantedBy } from "../model/event.js";
import { findingId, type Finding } from "../model/finding.js";
import { explainMatch, type PolicyMatch } from "../policy/evaluate.js";
import { exemptionFor, type Exemption } from "../policy/exemptions.js";

/** Where a judgement came from: an event (its id, time and caller) or a what-if run (its time). */
export interface JudgementOrigin {
  readonly eventId: string | null;
  /** The event's time, or the evaluation time: firstSeen/lastSeen/resolvedAt come from it. */
  readonly time: string;
  readonly correlationId: string | null;
  readonly grantedBy: GrantedBy | null;
}

const earliest = (a: string, b: string) => (a < b ? a : b);
const latest = (a: string, b: string) => (a > b ? a : b);

/** What a finding needs to know of the exemption that covers it: an exemption file's, or one a security admin stored on the finding. */
export type CoveringExemption = Pick<Exemption, "id" | "owner" | "expires" | "justification">;

/**
 * The exemption a security admin stored on this finding (over the API), while it is in force at
 * `now`: such an exemption is part of the finding, so every later judgement (event or sweep) keeps
 * honouring it until it expires, then the finding opens again.
 */
export function storedExemption(previous: Finding | undefined, now: Date): CoveringExemption | undefined {
  if (previous?.decision !== "exempted" || !previous.exemptionId || !previous.exemptionOwner || !previous.exemptionExpires) return undefined;
  if (previous.exemptionExpires <= now.toISOString()) return undefined;
  return { id: previous.exemptionId, owner: previous.exemptionOwner, expires: previous.exemptionExpires, justification: previous.exemptionJustification ?? "" };
}

/** The finding for one match: open, or exempted when an exemption in force covers it. */
export function findingFromMatch(match: PolicyMatch, a: RoleAssignment, facts: Facts, origin: JudgementOrigin, previous: Finding | undefined, exemption: CoveringExemption | undefined): Finding {
  const scope = parseScope(a.scope);
  const by = origin.grantedBy;
  const newer = !previous || previous.lastSeen <= origin.time;
  const status = exemption ? "exempted" : "open";
  // A new finding or a change of status is announced once; anything else keeps what was announced.
  const changed = !previous || previous.status !== status;
  const announce = changed
    ? { alertPending: true, alertTransition: status === "open" ? ("opened" as const) : ("exempted" as const), alertAt: origin.time }
    : { alertPending: previous.alertPending, alertTransition: previous.alertTransition, alertAt: previous.alertAt };
  const response = changed || !previous ? { responseKind: "alerted" as const, responseDetail: null, backupId: null } : { responseKind: previous.responseKind, responseDetail: previous.responseDetail, backupId: previous.backupId };
  return {
    id: findingId(match.policy.id, a.id),
    policyId: match.policy.id,
    policyTitle: match.policy.title,
    severity: match.policy.severity,
    status,
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
    firstSeen: previous ? earliest(previous.firstSeen, origin.time) : origin.time,
    lastSeen: previous ? latest(previous.lastSeen, origin.time) : origin.time,
    resolvedAt: null,
    resolution: null,
    exemptionId: exemption?.id ?? null,
    exemptionOwner: exemption?.owner ?? null,
    exemptionExpires: exemption?.expires ?? null,
    exemptionJustification: exemption?.justification ?? null,
    rolePrivileged: facts.role.privileged,
    assignmentCreatedOn: a.createdOn,
    assignmentCreatedBy: a.createdBy,
    principalLastSignIn: typeof facts.principal.lastSignIn === "string" ? facts.principal.lastSignIn : (previous?.principalLastSignIn ?? null),
    // A security admin's decision is history: it stays with the finding whatever later judgements say.
    decision: previous?.decision ?? null,
    decidedBy: previous?.decidedBy ?? null,
    decidedAt: previous?.decidedAt ?? null,
    decisionNote: previous?.decisionNote ?? null,
    grantedBy: by?.upn ?? by?.name ?? by?.appId ?? by?.objectId ?? a.createdBy,
    grantedByObjectId: by?.objectId ?? a.createdBy,
    grantedByIpAddress: by?.ipAddress ?? null,
    ...response,
    ...announce,
    lastEventId: newer ? origin.eventId : (previous?.lastEventId ?? null),
    correlationId: newer ? origin.correlationId : (previous?.correlationId ?? null),
  };
}

/** The open or exempted findings among these, resolved with a reason at the origin's time. */
export function resolveFindings(findings: readonly Finding[], origin: JudgementOrigin, resolution: string): Finding[] {
  return findings
    .filter((f) => f.status !== "resolved")
    .map((f) => ({ ...f, status: "resolved" as const, resolvedAt: origin.time, resolution, lastEventId: origin.eventId, alertPending: true, alertTransition: "resolved" as const, alertAt: origin.time }));
}

/**
 * The diff of what is stored against a new judgement of one assignment: each match becomes a
 * finding (opened, reopened, kept, or exempted when an exemption in force covers it) and every
 * stored finding no policy matches any more is resolved. The event path and a whole-tenant run
 * both judge through this.
 */
export function reconcileFindings(stored: readonly Finding[], matches: readonly PolicyMatch[], input: { readonly assignment: RoleAssignment; readonly facts: Facts; readonly origin: JudgementOrigin; readonly exemptions: readonly Exemption[]; readonly now: Date }): { readonly matched: Finding[]; readonly resolved: Finding[] } {
  const { assignment, facts, origin, exemptions, now } = input;
  const byId = new Map(stored.map((f) => [f.id, f]));
  const matched = matches.map((match) => {
    const previous = byId.get(findingId(match.policy.id, assignment.id));
    // An exemption file's exemption first; else one stored on the finding, while in force.
    return findingFromMatch(match, assignment, facts, origin, previous, exemptionFor(exemptions, match.policy.id, assignment, now) ?? storedExemption(previous, now));
  });
  const open = new Set(matched.map((f) => f.id));
  return { matched, resolved: resolveFindings(stored.filter((f) => !open.has(f.id)), origin, "the policy no longer matches the assignment") };
}
