import { buildFacts, gatherContext } from "../facts/build.js";
import { SnapshotContext } from "../facts/snapshotContext.js";
import { findingFromMatch } from "../findings/lifecycle.js";
import { deletedRoleDefinition, roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid, type RoleAssignment } from "../model/access.js";
import type { ArmRoleAssignment } from "../model/azure.js";
import type { GrantedBy } from "../model/event.js";
import type { Finding } from "../model/finding.js";
import type { TenantSnapshot } from "../model/snapshot.js";
import { evaluatePolicies } from "../policy/evaluate.js";
import { exemptionFor } from "../policy/exemptions.js";
import type { PolicyPack } from "../policy/load.js";

export interface EvaluateSnapshotOptions {
  /** The time of the what-if: findings are first and last seen now, exemptions are in force now. */
  readonly now: Date;
  /** Only these assignments (full ids, any case); all when absent. */
  readonly assignmentIds?: ReadonlySet<string>;
  /** Who made the grant, when an event says so; otherwise the assignment's createdBy. */
  readonly grantedBy?: GrantedBy;
}

/** A policy whose condition failed at run time on one assignment. */
export interface SnapshotEvaluationError {
  readonly assignmentId: string;
  readonly policyId: string;
  readonly message: string;
}

/** Where a streamed what-if sends what it finds, as it finds it. */
export interface SnapshotEvaluationSink {
  /** Takes one finding; a returned promise is awaited, so a slow sink slows the evaluation instead of piling findings up. */
  finding(finding: Finding): void | Promise<void>;
  /** Takes one run-time error of a policy. */
  evaluationError?(error: SnapshotEvaluationError): void;
  /** Called after each assignment: how many of how many are done. */
  progress?(done: number, total: number): void;
}

/** What a streamed what-if covered. */
export interface SnapshotEvaluationSummary {
  readonly assignments: number;
  readonly findings: number;
}

export interface SnapshotEvaluation {
  readonly assignments: number;
  readonly findings: readonly Finding[];
  readonly evaluationErrors: readonly SnapshotEvaluationError[];
}

/** Assignments in scope order (case-insensitive), then by name: a policy's findings come out ordered by scope. */
function inScopeOrder(assignments: readonly ArmRoleAssignment[], wanted: ReadonlySet<string> | undefined): ArmRoleAssignment[] {
  const keyed = assignments.filter((a) => !wanted || wanted.has(a.id.toLowerCase())).map((a) => ({ a, key: `${a.properties.scope.toLowerCase()}\u0000${a.name.toLowerCase()}` }));
  keyed.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return keyed.map((k) => k.a);
}

/**
 * The what-if, streamed: every policy of a pack against every assignment of a tenant snapshot,
 * in scope order, each finding handed to the sink as soon as it is made and never held here,
 * so memory does not grow with the output. No Azure calls.
 */
export async function streamSnapshotEvaluation(snapshot: TenantSnapshot, pack: Pick<PolicyPack, "policies" | "exemptions">, options: EvaluateSnapshotOptions, sink: SnapshotEvaluationSink): Promise<SnapshotEvaluationSummary> {
  const context = new SnapshotContext(snapshot);
  const roles = new Map(snapshot.roleDefinitions.map((d) => [d.name.toLowerCase(), roleDefinitionFromArm(d)]));
  const principals = new Map(snapshot.principals.map((p) => [p.id.toLowerCase(), p]));
  const wanted = options.assignmentIds && new Set([...options.assignmentIds].map((id) => id.toLowerCase()));
  const time = options.now.toISOString();

  const granter = (a: RoleAssignment): GrantedBy | null => {
    if (options.grantedBy) return options.grantedBy;
    if (!a.createdBy) return null;
    const p = principals.get(a.createdBy.toLowerCase());
    const upn = p?.["@odata.type"] === "#microsoft.graph.user" ? p.userPrincipalName : null;
    return { objectId: a.createdBy, upn, name: p?.displayName ?? null, appId: null, ipAddress: null, identityType: p ? (upn ? "user" : "app") : null };
  };

  const assignments = inScopeOrder(snapshot.roleAssignments, wanted);
  let findings = 0;
  for (const [index, arm] of assignments.entries()) {
    const assignment = roleAssignmentFromArm(arm);
    const role = roles.get(roleDefinitionGuid(assignment.roleDefinitionId)) ?? deletedRoleDefinition(assignment.roleDefinitionId);
    const principal = principals.get(assignment.principalId.toLowerCase()) ?? null;
    const grantedBy = granter(assignment);
    const facts = buildFacts({ assignment, role, principal, grantedBy, tenantId: snapshot.tenantId, context: await gatherContext(context, assignment, role, principal) });
    const evaluation = evaluatePolicies(pack.policies, facts);
    for (const error of evaluation.errors) sink.evaluationError?.({ assignmentId: assignment.id, ...error });
    for (const match of evaluation.matches) {
      const origin = { eventId: null, time, correlationId: null, grantedBy };
      const finding = findingFromMatch(match, assignment, facts, origin, undefined, exemptionFor(pack.exemptions, match.policy.id, assignment, options.now));
      findings += 1;
      // A what-if never revokes: it says what a revoke policy would do.
      const said = finding.action === "revoke" && finding.status === "open" ? { ...finding, responseKind: "wouldRevoke" as const, responseDetail: "what-if: in enforce mode grantguard would revoke this assignment unless a guard rail stops it" } : finding;
      const accepted = sink.finding(said);
      if (accepted) await accepted;
    }
    sink.progress?.(index + 1, assignments.length);
  }
  return { assignments: assignments.length, findings };
}

/** The what-if: every policy of a pack against every assignment of a tenant snapshot, findings collected in memory. No Azure calls. */
export async function evaluateSnapshot(snapshot: TenantSnapshot, pack: Pick<PolicyPack, "policies" | "exemptions">, options: EvaluateSnapshotOptions): Promise<SnapshotEvaluation> {
  const findings: Finding[] = [];
  const evaluationErrors: SnapshotEvaluationError[] = [];
  const { assignments } = await streamSnapshotEvaluation(snapshot, pack, options, { finding: (f) => void findings.push(f), evaluationError: (e) => void evaluationErrors.push(e) });
  return { assignments, findings, evaluationErrors };
}
