import { createHash } from "node:crypto";
import { ConflictError, NotFoundError } from "../errors.js";
import { findingsPartition } from "../findings/keys.js";
import type { FindingsReader } from "../findings/query.js";
import { retryOnConflict, type FindingsStore } from "../findings/store.js";
import type { Finding } from "../model/finding.js";

/** A security admin's decision on one finding. */
export type Decision =
  | { readonly kind: "acknowledge"; readonly note: string }
  | { readonly kind: "exempt"; readonly owner: string; readonly justification: string; readonly expires: string };

/** What deciding needs: the findings (read, and written through the store's conditional commit) and a clock. */
export interface DecideDependencies {
  readonly findings: FindingsReader & Pick<FindingsStore, "read" | "commitPartition">;
  readonly now: () => Date;
}

/** The longest an exemption granted over the API may run: it must be looked at again within a year. */
export const MAX_EXEMPTION_DAYS = 366;

/**
 * Records a decision on a finding, conditionally on what was read (a concurrent judgement makes it
 * read and apply again). Acknowledging keeps the finding open and records who saw the risk.
 * Exempting accepts the risk until `expires`: the finding becomes `exempted` (announced through the
 * outbox like any state change) and every later judgement keeps it so until then. Resolved findings
 * take no decision: there is no risk left to accept.
 */
export async function decideFinding(deps: DecideDependencies, findingId: string, decision: Decision, decidedBy: string): Promise<Finding> {
  const found = await deps.findings.get(findingId);
  if (!found) throw new NotFoundError(`no finding ${findingId}`);
  return retryOnConflict(`finding ${findingId}`, async () => {
    const record = await deps.findings.read(found.assignmentId);
    const current = record.findings.find((f) => f.id === findingId);
    if (!current) throw new NotFoundError(`no finding ${findingId}`);
    if (current.status === "resolved") throw new ConflictError(`finding ${findingId} is resolved (${current.resolution ?? "no longer holds"}): there is nothing to ${decision.kind}`);
    const now = deps.now();
    const at = now.toISOString();
    let updated: Finding;
    if (decision.kind === "acknowledge") {
      if (current.status !== "open") throw new ConflictError(`finding ${findingId} is ${current.status}: only an open finding is acknowledged`);
      updated = { ...current, decision: "acknowledged", decidedBy, decidedAt: at, decisionNote: decision.note };
    } else {
      if (decision.expires <= at) throw new ConflictError(`the exemption would already have expired (${decision.expires})`);
      const exemptionId = `api-${createHash("sha256").update(`${findingId}|${at}`).digest("hex").slice(0, 16)}`;
      const announce = current.status === "exempted" ? {} : { alertPending: true, alertTransition: "exempted" as const, alertAt: at };
      updated = { ...current, status: "exempted", exemptionId, exemptionOwner: decision.owner, exemptionJustification: decision.justification, exemptionExpires: decision.expires, decision: "exempted", decidedBy, decidedAt: at, decisionNote: null, ...announce };
    }
    const committed = await deps.findings.commitPartition({ partition: findingsPartition(current.scope), findings: record.findings, versions: record.versions }, [updated]);
    return committed ? updated : undefined;
  });
}
