import { allPages, type FindingsFilter, type FindingsReader } from "../findings/query.js";
import type { Finding } from "../model/finding.js";

/** The columns of an export, in order: what auditors ask about each finding. CSV and JSON carry the same. */
export const EXPORT_COLUMNS = [
  "assignmentId",
  "scope",
  "principalId",
  "principalName",
  "principalType",
  "roleName",
  "roleDefinitionId",
  "privileged",
  "createdOn",
  "createdBy",
  "grantedBy",
  "lastSignIn",
  "findingId",
  "policyId",
  "policyTitle",
  "severity",
  "status",
  "firstSeen",
  "lastSeen",
  "resolvedAt",
  "resolution",
  "reason",
  "response",
  "exemptionOwner",
  "exemptionJustification",
  "exemptionExpires",
  "decision",
  "decidedBy",
  "decidedAt",
  "decisionNote",
] as const;

/** One export row: every column, null where nothing is known. */
export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | boolean | null>;

/** A finding as an export row. */
export function exportRow(f: Finding): ExportRow {
  return {
    assignmentId: f.assignmentId,
    scope: f.scope,
    principalId: f.principalId,
    principalName: f.principalName,
    principalType: f.principalType,
    roleName: f.roleName,
    roleDefinitionId: f.roleDefinitionId,
    privileged: f.rolePrivileged ?? null,
    createdOn: f.assignmentCreatedOn ?? null,
    createdBy: f.assignmentCreatedBy ?? null,
    grantedBy: f.grantedBy,
    lastSignIn: f.principalLastSignIn ?? null,
    findingId: f.id,
    policyId: f.policyId,
    policyTitle: f.policyTitle,
    severity: f.severity,
    status: f.status,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    resolvedAt: f.resolvedAt,
    resolution: f.resolution,
    reason: f.reason,
    response: f.responseKind,
    exemptionOwner: f.exemptionOwner,
    exemptionJustification: f.exemptionJustification ?? null,
    exemptionExpires: f.exemptionExpires,
    decision: f.decision ?? null,
    decidedBy: f.decidedBy ?? null,
    decidedAt: f.decidedAt ?? null,
    decisionNote: f.decisionNote ?? null,
  };
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. Text a spreadsheet
 * would run as a formula (= + - @, tab, carriage return first) gets a leading apostrophe, as OWASP
 * advises against CSV injection: a principal's display name is anyone's to choose.
 */
export function csvField(value: string | boolean | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const encoder = new TextEncoder();

/**
 * Streams every finding matching `filter`, page by page (never the whole table in memory): CSV with
 * a header line and CRLF line ends, or a JSON array of rows. A failure part-way ends the stream with
 * an error, so the client sees a broken transfer, never a short file that looks complete.
 */
export async function* exportFindings(reader: FindingsReader, filter: FindingsFilter, format: "csv" | "json"): AsyncGenerator<Uint8Array> {
  if (format === "csv") yield encoder.encode(`${EXPORT_COLUMNS.join(",")}\r\n`);
  else yield encoder.encode("[");
  let first = true;
  for await (const page of allPages(reader, filter)) {
    const rows = page.map(exportRow);
    const text =
      format === "csv"
        ? rows.map((row) => `${EXPORT_COLUMNS.map((c) => csvField(row[c])).join(",")}\r\n`).join("")
        : rows.map((row, i) => `${first && i === 0 ? "\n" : ",\n"}${JSON.stringify(row)}`).join("");
    first = false;
    yield encoder.encode(text);
  }
  if (format === "json") yield encoder.encode("\n]\n");
}
