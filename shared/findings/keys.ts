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

/**
 * The scope part of a role assignment id ("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}").
 * A finding about a whole scope (a subscription policy's) names the scope itself as its subject: that scope.
 */
export function scopeOfAssignmentId(assignmentId: string): string {
  const index = assignmentId.toLowerCase().lastIndexOf("/providers/microsoft.authorization/roleassignments/");
  if (index < 0) return assignmentId.startsWith("/") ? assignmentId : "/";
  return index === 0 ? "/" : assignmentId.slice(0, index);
}

// Table Storage keys: at most 1 KiB (512 UTF-16 code units), none of / \ # ? or the control
// characters U+0000–U+001F and U+007F–U+009F (azure-docs: understanding the Table service data model).
// A lone surrogate cannot be sent at all (the request URL cannot encode it).
const MAX_KEY_CHARS = 512;
// eslint-disable-next-line no-control-regex
const ILLEGAL_KEY_CHARS = /[/\\#?\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const KEPT_CHARS = 400;

/**
 * Makes any text a legal PartitionKey/RowKey: a legal key is kept as it is; any other text becomes its
 * legal characters (at most 400) plus `~` and a hash of the whole, so two different texts never share a key.
 */
export function sanitizeKey(value: string): string {
  ILLEGAL_KEY_CHARS.lastIndex = 0;
  if (value.length > 0 && value.length <= MAX_KEY_CHARS && !ILLEGAL_KEY_CHARS.test(value)) return value;
  let kept = value.slice(0, KEPT_CHARS);
  // Never cut a surrogate pair in half.
  if (/[\ud800-\udbff]$/.test(kept) && /^[\udc00-\udfff]/.test(value.slice(KEPT_CHARS))) kept = kept.slice(0, -1);
  const hash = createHash("sha256").update(value, "utf16le").digest("hex").slice(0, 32);
  return `${kept.replace(ILLEGAL_KEY_CHARS, "_")}~${hash}`;
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
  return `${STATE_ROW_PREFIX}${assignmentHash(assignmentId)}`;
}

/** The hash of an assignment's canonical id that its finding ids and its state row end with. */
export function assignmentHash(assignmentId: string): string {
  return createHash("sha256").update(assignmentKey(assignmentId)).digest("hex").slice(0, 32);
}

// The outbox's markers: one per state change still to announce, written in the same transaction
// as its finding. Keyed by the assignment's hash first, so one assignment's markers are one RowKey
// range, and every marker of a partition is the range "~pending." … "~pending/"; and by the state
// change last, so a newer change of a finding is a new marker, never a rewrite of the one a
// dispatcher is handing over.
export const PENDING_ROW_PREFIX = "~pending.";
/** The first key after every marker of a partition ("/" sorts right after "."). */
export const PENDING_ROW_END = "~pending/";

/** The RowKey of the outbox marker of a finding's pending state change, beside the finding in its partition. */
export function pendingRowKey(finding: { readonly id: string; readonly assignmentId: string; readonly alertTransition: string | null; readonly alertAt: string | null }): string {
  const change = createHash("sha256").update(`${finding.alertTransition ?? ""}|${finding.alertAt ?? ""}`).digest("hex").slice(0, 16);
  return `${pendingRowPrefix(finding.assignmentId)}${finding.id}.${change}`;
}

/** The start of the RowKey range holding one assignment's outbox markers. */
export function pendingRowPrefix(assignmentId: string): string {
  return `${PENDING_ROW_PREFIX}${assignmentHash(assignmentId)}.`;
}

// Table Storage cannot list partitions, so the partitions that hold findings are registered in a
// partition of their own (written before the first commit into each); the outbox's timer reads
// this short list, then one marker range per partition, and never the findings themselves.
export const PARTITION_INDEX = "~partitions";

/** The RowKey registering a findings partition (after "~", so findings queries never see it). */
export function partitionIndexRowKey(partition: string): string {
  return `~${partition}`;
}
