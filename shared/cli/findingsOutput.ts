import { z } from "zod";
import type { Finding } from "../model/finding.js";
import { SEVERITIES, type Severity } from "../model/severity.js";
import type { PolicyPack } from "../policy/load.js";
import { count, nestedJson } from "./format.js";
import type { Io } from "./io.js";
import type { Spool } from "./spool.js";

// How the what-if and the sweep print findings: most severe first, four lines each, a summary.

/** --fail-on: a severity, or never. */
export const failOnSchema = z.enum([...SEVERITIES, "never"]);
const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** The four lines a finding takes in the text output. */
export function describeFinding(f: Finding): string {
  const who = `${f.principalName ?? "(deleted identity)"} [${f.principalType} ${f.principalId}]`;
  const would = f.action === "revoke" ? "revoke the assignment in enforce mode unless a guard rail stops it (in audit mode: alert)" : "alert";
  return [
    `${f.severity.toUpperCase().padEnd(8)} ${f.policyId} — ${f.policyTitle}`,
    `         ${who} holds ${f.roleName} at ${f.scopeLevel} ${f.scope}${f.grantedBy ? `, granted by ${f.grantedBy}` : ""}`,
    `         why: ${f.reason.slice(f.policyTitle.length + 2)}`,
    f.status === "exempted" ? `         exempted by ${f.exemptionId} (owner ${f.exemptionOwner}) until ${f.exemptionExpires}` : `         would: ${would}`,
  ].join("\n");
}

/** Open findings by severity and exempted matches: what the summary reports. */
export class Tally {
  readonly open: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  exempted = 0;

  add(f: Finding): void {
    if (f.status === "exempted") this.exempted += 1;
    else this.open[f.severity] += 1;
  }

  get openTotal(): number {
    return SEVERITIES.reduce((sum, s) => sum + this.open[s], 0);
  }

  /** True when an open finding is at or above the threshold. */
  reaches(threshold: Severity): boolean {
    return SEVERITIES.some((s) => rank(s) >= rank(threshold) && this.open[s] > 0);
  }

  line(assignments: number, policies: number, listsExempted: boolean): string {
    const bySeverity = [...SEVERITIES].reverse().map((s) => `${count(this.open[s])} ${s}`).join(", ");
    const exempted = this.exempted ? `; ${count(this.exempted)} exempted${listsExempted ? "" : " (--all lists them)"}` : "";
    return `${count(this.openTotal)} open finding(s) (${bySeverity})${exempted} over ${count(assignments)} assignment(s) and ${policies} ${policies === 1 ? "policy" : "policies"}.`;
  }
}

/** The policies of a pack in the order the output lists them: most severe first, then by id. */
export function outputOrder(pack: Pick<PolicyPack, "policies">): string[] {
  return [...pack.policies].sort((a, b) => rank(b.severity) - rank(a.severity) || a.id.localeCompare(b.id)).map((p) => p.id);
}

/**
 * Writes the spooled findings in output order, then the summary: as JSON
 * `{"findings":[…],"summary":{…}}` (the summary line on stderr), or as text ending with it.
 */
export async function writeFindings(io: Io, spool: Spool, order: readonly string[], output: { readonly json: boolean; readonly totals: object; readonly summary: string }): Promise<void> {
  if (!output.json) {
    await spool.drain(order, (chunk) => io.write(chunk));
    io.out(`\n${output.summary}`);
    return;
  }
  await io.write('{\n  "findings": [');
  // Every entry starts with its separator; the first one has nothing to separate from.
  let first = true;
  await spool.drain(order, (chunk) => {
    const text = first ? chunk.slice(1) : chunk;
    first = false;
    return io.write(text);
  });
  await io.write(`\n  ],\n  "summary": ${nestedJson(output.totals, 1)}\n}\n`);
  io.err(output.summary);
}
