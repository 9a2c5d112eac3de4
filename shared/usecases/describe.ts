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
      for (const f of outcome.open) lines.push(`  [${f.severity.toUpperCase()}] ${f.policyId}${f.action === "revoke" ? " (revoke policy)" : ""} ${f.reason}`);
      for (const e of outcome.evaluationErrors) lines.push(`  [ERROR] ${e.policyId}: condition failed at run time: ${e.message}`);
      const response = outcome.open.find((f) => f.action === "revoke" && f.responseKind !== "alerted");
      if (response) lines.push(`  RESPONSE ${responseText(response.responseKind, response.responseDetail, response.backupId)}`);
      return lines;
    }
  }
}

function resolvedText(count: number): string {
  return count > 0 ? `; ${count} finding(s) resolved` : "";
}

function responseText(kind: string, detail: string | null, backupId: string | null): string {
  switch (kind) {
    case "revoked":
      return `REVOKED the assignment (backup ${backupId}; undo with: npx grantguard restore ${backupId} --reason "<why>")`;
    case "wouldRevoke":
      return `WOULD REVOKE — ${detail}`;
    case "revocationBlocked":
      return `NOT REVOKED — ${detail}`;
    case "revocationFailed":
      return `REVOCATION FAILED — ${detail}`;
    case "revoking":
      return `REVOKING — ${detail}`;
    default:
      return "alerted";
  }
}
