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
      const a = outcome.assignment;
      const head = `JUDGED ${a.principalType} ${a.principalId} → ${a.roleDefinitionId.split("/").pop()} at ${a.scope}`;
      const lines = outcome.open.length === 0 ? [`${head}: no policy matched${resolvedText(outcome.resolved.length)}`] : [`${head}: ${outcome.open.length} finding(s)${resolvedText(outcome.resolved.length)}`];
      for (const f of outcome.open) lines.push(`  [${f.severity.toUpperCase()}] ${f.policyId} (${f.action}) ${f.reason}`);
      for (const e of outcome.evaluationErrors) lines.push(`  [ERROR] ${e.policyId}: condition failed at run time: ${e.message}`);
      return lines;
    }
  }
}

function resolvedText(count: number): string {
  return count > 0 ? `; ${count} finding(s) resolved` : "";
}
