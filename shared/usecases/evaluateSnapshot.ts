import { buildFacts, gatherContext } from "../facts/build.js";
import { SnapshotContext } from "../facts/snapshotContext.js";
import { findingFromMatch } from "../findings/lifecycle.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid, type RoleAssignment } from "../model/access.js";
import type { GrantedBy } from "../model/event.js";
import type { Finding } from "../model/finding.js";
import type { TenantSnapshot } from "../model/snapshot.js";
import { evaluatePolicies } from "../policy/evaluate.js";
import { exemptionFor } from "../policy/exemptions.js";
import type { PolicyPack } from "../policy/load.js";
import { deletedRole } from "./judgeGrantEvent.js";

export interface EvaluateSnapshotOptions {
  /** The time of the what-if: findings are first and last seen now, exemptions are in force now. */
  readonly now: Date;
  /** Only these assignments (full ids, any case); all when absent. */
  readonly assignmentIds?: ReadonlySet<string>;
  /** Who made the grant, when an event says so; otherwise the assignment's createdBy. */
  readonly grantedBy?: GrantedBy;
}

export interface SnapshotEvaluation {
  readonly assignments: number;
  readonly findings: readonly Finding[];
  readonly evaluationErrors: readonly { readonly assignmentId: string; readonly policyId: string; readonly message: string }[];
}

/** The what-if: every policy of a pack against every assignment of a tenant snapshot. No Azure calls. */
export async function evaluateSnapshot(snapshot: TenantSnapshot, pack: Pick<PolicyPack, "policies" | "exemptions">, options: EvaluateSnapshotOptions): Promise<SnapshotEvaluation> {
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

  const findings: Finding[] = [];
  const evaluationErrors: { assignmentId: string; policyId: string; message: string }[] = [];
  let assignments = 0;
  for (const arm of snapshot.roleAssignments) {
    if (wanted && !wanted.has(arm.id.toLowerCase())) continue;
    assignments += 1;
    const assignment = roleAssignmentFromArm(arm);
    const role = roles.get(roleDefinitionGuid(assignment.roleDefinitionId)) ?? deletedRole(assignment.roleDefinitionId);
    const principal = principals.get(assignment.principalId.toLowerCase()) ?? null;
    const grantedBy = granter(assignment);
    const facts = buildFacts({ assignment, role, principal, grantedBy, tenantId: snapshot.tenantId, context: await gatherContext(context, assignment, role, principal) });
    const evaluation = evaluatePolicies(pack.policies, facts);
    for (const error of evaluation.errors) evaluationErrors.push({ assignmentId: assignment.id, ...error });
    for (const match of evaluation.matches) {
      const origin = { eventId: null, time, correlationId: null, grantedBy };
      const finding = findingFromMatch(match, assignment, facts, origin, undefined, exemptionFor(pack.exemptions, match.policy.id, assignment, options.now));
      // A what-if never revokes: it says what a revoke policy would do.
      findings.push(finding.action === "revoke" && finding.status === "open" ? { ...finding, responseKind: "wouldRevoke", responseDetail: "what-if: in enforce mode grantguard would revoke this assignment unless a guard rail stops it" } : finding);
    }
  }
  return { assignments, findings, evaluationErrors };
}
