import type { JudgeOutcome } from "./judgeGrantEvent.js";

/** One line per decision, for the function log: what arrived and what grantguard concluded. */
export function describeOutcome(outcome: JudgeOutcome): string[] {
  switch (outcome.status) {
    case "rejected":
      return [`REJECTED event ${outcome.eventId}: ${outcome.reason}`];
    case "assignmentGone":
      return [`GONE ${outcome.assignmentId}: already deleted when judged (recorded)${resolvedText(outcome.resolved.length)}`];
    case "resolved":
      return [`DELETED ${outcome.assignmentId}${resolvedText(outcome.resolved.length)}`];
    case "judged": {
      const { principal, role, scope, grantedBy } = outcome.facts;
      const who = `${principal.displayName ?? principal.id} [${principal.kind}${principal.disabled ? ", disabled" : ""}]`;
      const by = grantedBy.upn ?? grantedBy.name ?? grantedBy.objectId;
      const head = `JUDGED ${who} got ${role.name} at ${scope.level} ${scope.id}${by ? ` (granted by ${by})` : ""}`;
      const lines = outcome.open.length === 0 ? [`${head}: no policy matched${resolvedText(outcome.resolved.length)}`] : [`${head}: ${outcome.open.length} finding(s)${resolvedText(outcome.resolved.length)}`];
      // Revocation is not built yet: a revoke policy is reported as what it would do.
      for (const f of outcome.open) lines.push(`  [${f.severity.toUpperCase()}] ${f.policyId}${f.action === "revoke" ? " (would revoke; audit only)" : ""} ${f.reason}`);
      for (const e of outcome.evaluationErrors) lines.push(`  [ERROR] ${e.policyId}: condition failed at run time: ${e.message}`);
      return lines;
    }
  }
}

function resolvedText(count: number): string {
  return count > 0 ? `; ${count} finding(s) resolved` : "";
}
