import { createHash } from "node:crypto";
import { parseScope } from "../facts/scope.js";

// Key design (see docs/findings-store.md): findings are partitioned by the subscription their
// scope lies in, so "everything in subscription X" is one partition scan and all findings of
// one assignment (always one subscription) are written in one transaction.

/** The findings partition of a scope: the subscription id, `mg-{name}` for a management group, `root` for "/". */
export function findingsPartition(scope: string): string {
  const info = parseScope(scope);
  if (info.subscriptionId) return info.subscriptionId;
  if (info.managementGroup) return `mg-${sanitizeKey(info.managementGroup.toLowerCase())}`;
  return "root";
}

/** The scope part of a role assignment id ("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"). */
export function scopeOfAssignmentId(assignmentId: string): string {
  const index = assignmentId.toLowerCase().lastIndexOf("/providers/microsoft.authorization/roleassignments/");
  return index <= 0 ? "/" : assignmentId.slice(0, index);
}

/** Makes any text a legal PartitionKey/RowKey (no / \ # ? or control characters, at most 512 chars). */
export function sanitizeKey(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[/\\#?\u0000-\u001f\u007f-\u009f]/g, "_").slice(0, 512);
}

/** The ledger partition for a time: its UTC day, so auditors read a day or a range of days. */
export function ledgerPartition(isoTime: string): string {
  return isoTime.slice(0, 10);
}

/** The canonical form of an assignment id: ARM ids are case-insensitive and events pass the caller's casing. */
export function assignmentKey(assignmentId: string): string {
  return assignmentId.toLowerCase();
}

// Findings' RowKeys are "{policyId}.{hash}" and policy ids start with [a-z0-9]; assignment state
// rows sort after every one of them, so a findings query excludes them with "RowKey lt '~'".
export const STATE_ROW_PREFIX = "~assignment.";

/** The RowKey of an assignment's state row, beside its findings in the same partition. */
export function stateRowKey(assignmentId: string): string {
  return `${STATE_ROW_PREFIX}${createHash("sha256").update(assignmentKey(assignmentId)).digest("hex").slice(0, 32)}`;
}
