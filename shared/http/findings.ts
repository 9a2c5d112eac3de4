import { z } from "zod";
import { AUDITOR_ROLE, SECURITY_ADMIN_ROLE, type TokenValidator } from "../auth/tokens.js";
import type { FindingsReader } from "../findings/query.js";
import type { FindingsStore } from "../findings/store.js";
import type { Finding } from "../model/finding.js";
import type { Delivery } from "../response/deliveries.js";
import type { RevocationStore } from "../response/revocations.js";
import { decideFinding, MAX_EXEMPTION_DAYS, type Decision } from "../usecases/decideFinding.js";
import { answering, authorize, badRequest, type ApiRequest, type ApiResponse } from "./api.js";
import { parseFindingsQuery, parseParams } from "./params.js";
import { exportFindings } from "./export.js";

/** What the findings API reads and writes. */
export interface FindingsApiDependencies {
  /** Null when the Entra ID settings are absent: then the API refuses every call (fail closed). */
  readonly tokens: TokenValidator | null;
  readonly findings: FindingsReader & Pick<FindingsStore, "read" | "commitPartition">;
  readonly deliveries: { listForFinding(findingId: string): Promise<Delivery[]> };
  readonly revocations: Pick<RevocationStore, "get">;
  readonly now: () => Date;
}

/** Who may read: auditors, and security admins (who may also decide). */
export const READ_ROLES = [AUDITOR_ROLE, SECURITY_ADMIN_ROLE] as const;

const FINDING_ID = /^[a-z0-9][a-z0-9-]{2,79}\.[0-9a-f]{32}$/;

/** GET /api/findings: one page of findings matching the filters, and the token for the next. */
export async function handleListFindings(request: ApiRequest, deps: FindingsApiDependencies): Promise<ApiResponse> {
  const auth = await authorize(request, deps.tokens, READ_ROLES, "reading findings");
  if (!auth.ok) return auth.response;
  const query = parseFindingsQuery(request.query, true);
  if (!query.ok) return badRequest(query.error);
  const { filter, pageSize, continuationToken } = query.value;
  return answering(async () => {
    const page = await deps.findings.queryPage(filter, { pageSize, continuationToken });
    return { status: 200, jsonBody: { findings: page.findings, continuationToken: page.continuationToken } };
  });
}

/** GET /api/findings/export?format=csv|json: every finding matching the filters, streamed. */
export async function handleExportFindings(request: ApiRequest, deps: FindingsApiDependencies): Promise<ApiResponse> {
  const auth = await authorize(request, deps.tokens, READ_ROLES, "exporting findings");
  if (!auth.ok) return auth.response;
  const query = parseFindingsQuery(request.query, false);
  if (!query.ok) return badRequest(query.error);
  const stamp = deps.now().toISOString().replace(/[:.]/g, "-");
  const { format, filter } = query.value;
  return {
    status: 200,
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8; header=present" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="grantguard-findings-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
    body: exportFindings(deps.findings, filter, format),
    detail: `export ${format} by ${auth.caller.oid}`,
  };
}

/** GET /api/findings/{id}: the finding and its story: who granted it, what matched, alerts sent, revocation and restore, decisions. */
export async function handleGetFinding(request: ApiRequest, deps: FindingsApiDependencies): Promise<ApiResponse> {
  const auth = await authorize(request, deps.tokens, READ_ROLES, "reading findings");
  if (!auth.ok) return auth.response;
  const id = request.params.id ?? "";
  if (!FINDING_ID.test(id)) return badRequest("the finding id must be {policy id}.{32 hex digits}, as the findings list gives it");
  const finding = await deps.findings.get(id);
  if (!finding) return { status: 404, jsonBody: { error: `no finding ${id}` } };
  const [deliveries, revocation] = await Promise.all([deps.deliveries.listForFinding(id), finding.backupId ? deps.revocations.get(finding.backupId) : null]);
  return { status: 200, jsonBody: { finding, story: storyOf(finding, deliveries, revocation) } };
}

type StoryRevocation = Awaited<ReturnType<RevocationStore["get"]>>;

/** The finding's story in order, for people: each step with its time, what happened and who did it. */
export function storyOf(f: Finding, deliveries: readonly Delivery[], revocation: StoryRevocation): { readonly at: string | null; readonly what: string; readonly by: string | null }[] {
  const steps: { at: string | null; what: string; by: string | null }[] = [];
  steps.push({ at: f.assignmentCreatedOn ?? null, what: `${f.roleName} granted to ${f.principalName ?? f.principalId} (${f.principalType}) at ${f.scope}`, by: f.grantedBy });
  steps.push({ at: f.firstSeen, what: `policy ${f.policyId} matched: ${f.reason}`, by: "grantguard" });
  for (const d of deliveries) {
    const what = d.status === "delivered" ? `alert sent to ${d.channel}` : d.status === "failed" ? `alert to ${d.channel} failed after ${d.attempts} attempt(s): ${d.lastError ?? "no answer"}` : d.status === "digest" ? `alert to ${d.channel} waits for the digest` : `alert to ${d.channel} pending (attempt ${d.attempts})`;
    steps.push({ at: d.deliveredAt ?? d.createdAt, what, by: "grantguard" });
  }
  if (revocation) {
    if (revocation.deletedAt) steps.push({ at: revocation.deletedAt, what: `assignment revoked (backup ${revocation.id})`, by: "grantguard" });
    else steps.push({ at: revocation.createdAt, what: `revocation ${revocation.status}${revocation.detail ? `: ${revocation.detail}` : ""}`, by: "grantguard" });
    if (revocation.restoredAt) steps.push({ at: revocation.restoredAt, what: `assignment restored: ${revocation.restoreReason ?? ""}`, by: revocation.restoredBy });
  } else if (f.responseKind !== "alerted") {
    steps.push({ at: f.lastSeen, what: `${f.responseKind}${f.responseDetail ? `: ${f.responseDetail}` : ""}`, by: "grantguard" });
  }
  if (f.decision === "acknowledged") steps.push({ at: f.decidedAt ?? null, what: `acknowledged${f.decisionNote ? `: ${f.decisionNote}` : ""}`, by: f.decidedBy ?? null });
  if (f.exemptionId) steps.push({ at: f.decision === "exempted" ? (f.decidedAt ?? null) : null, what: `exempted until ${f.exemptionExpires} (owner ${f.exemptionOwner}): ${f.exemptionJustification ?? f.exemptionId}`, by: f.decision === "exempted" ? (f.decidedBy ?? null) : `exemption ${f.exemptionId}` });
  if (f.status === "resolved") steps.push({ at: f.resolvedAt, what: `resolved: ${f.resolution ?? ""}`, by: "grantguard" });
  return steps.sort((a, b) => (a.at ?? "").localeCompare(b.at ?? ""));
}

const acknowledgeSchema = z.strictObject({ note: z.string().trim().min(10, "say what was checked (10 characters at least)").max(2_000) });
const exemptSchema = z.strictObject({
  owner: z.string().trim().min(3, "must name who answers for the accepted risk").max(256),
  justification: z.string().trim().min(20, "must say why the risk is accepted (20 characters at least)").max(4_000),
  expires: z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d{2}-\d{2}/.test(v), "must be an ISO 8601 date or time")
    .transform((v) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T23:59:59Z` : v).toISOString()),
});

/** POST /api/findings/{id}/acknowledge and /exempt: a security admin's decision, recorded with who made it. */
export async function handleDecision(request: ApiRequest, kind: Decision["kind"], deps: FindingsApiDependencies): Promise<ApiResponse> {
  const auth = await authorize(request, deps.tokens, [SECURITY_ADMIN_ROLE], kind === "exempt" ? "exempting a finding" : "acknowledging a finding");
  if (!auth.ok) return auth.response;
  const id = request.params.id ?? "";
  if (!FINDING_ID.test(id)) return badRequest("the finding id must be {policy id}.{32 hex digits}, as the findings list gives it");
  const noQuery = parseParams(request.query, {});
  if (!noQuery.ok) return badRequest(noQuery.error);
  let decision: Decision;
  if (kind === "acknowledge") {
    const body = acknowledgeSchema.safeParse(request.body);
    if (!body.success) return badRequest(body.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
    decision = { kind, note: body.data.note };
  } else {
    const body = exemptSchema.safeParse(request.body);
    if (!body.success) return badRequest(body.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
    const now = deps.now().getTime();
    const expires = Date.parse(body.data.expires);
    if (expires <= now) return badRequest("expires: must be in the future");
    if (expires > now + MAX_EXEMPTION_DAYS * 86_400_000) return badRequest(`expires: must be within ${MAX_EXEMPTION_DAYS} days; accept the risk again when it ends`);
    decision = { kind, owner: body.data.owner, justification: body.data.justification, expires: body.data.expires };
  }
  const by = auth.caller.upn ? `${auth.caller.upn} (${auth.caller.oid})` : auth.caller.oid;
  return answering(async () => {
    const finding = await decideFinding({ findings: deps.findings, now: deps.now }, id, decision, by);
    return { status: 200, jsonBody: { finding }, detail: `${kind} by ${by}` };
  });
}
