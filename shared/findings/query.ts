import { GrantGuardError } from "../errors.js";
import type { Finding, FindingStatus } from "../model/finding.js";
import type { Severity } from "../model/severity.js";

/** What an auditor can ask of the findings: every filter is optional, all given ones must hold. */
export interface FindingsFilter {
  readonly status?: FindingStatus;
  readonly severity?: Severity;
  readonly policyId?: string;
  readonly subscriptionId?: string;
  /** The scope itself or anything below it (`/subscriptions/x/resourceGroups/rg` covers its resources), without regard to case. */
  readonly scopePrefix?: string;
  readonly principalId?: string;
  /** Findings that held at some time in [seenFrom, seenTo): last seen at or after `seenFrom`, first seen before `seenTo` (ISO 8601). */
  readonly seenFrom?: string;
  readonly seenTo?: string;
}

/** One page of a findings query, and the token that asks for the next (null at the end). */
export interface FindingsPage {
  readonly findings: Finding[];
  readonly continuationToken: string | null;
}

/** How one page is asked for. */
export interface FindingsPageOptions {
  /** At most this many findings (1 to MAX_PAGE_SIZE). A page may hold fewer and still have a next one. */
  readonly pageSize: number;
  /** From the previous page of the same query; absent for the first page. */
  readonly continuationToken?: string | null;
}

/** A page's size when the caller names none. */
export const DEFAULT_PAGE_SIZE = 100;
/** The largest page one answer may hold (Table Storage returns at most 1,000 entities per response). */
export const MAX_PAGE_SIZE = 1000;

/** Reads findings for auditors: one page at a time, never a whole table in one answer. */
export interface FindingsReader {
  /** One page of the findings that match `filter`; throws InvalidContinuationTokenError for a token that is not this query's. */
  queryPage(filter: FindingsFilter, options: FindingsPageOptions): Promise<FindingsPage>;
  /** One finding by its id, or null. */
  get(findingId: string): Promise<Finding | null>;
}

/** A continuation token that is malformed, or was issued for another query: the caller's mistake (HTTP 400). */
export class InvalidContinuationTokenError extends GrantGuardError {}

/** The scope key a scope filter compares: lower case, no trailing slash ("/" stays "/"). */
export function scopeKeyOf(scope: string): string {
  const lower = scope.toLowerCase();
  return lower.length > 1 ? lower.replace(/\/+$/, "") : lower;
}

/** True when `scope` is `prefix` or lies below it. */
export function scopeUnder(scope: string, prefix: string): boolean {
  const s = scopeKeyOf(scope);
  const p = scopeKeyOf(prefix);
  return p === "/" || s === p || s.startsWith(`${p}/`);
}

/**
 * Whether a finding meets every filter. The store answers from indexes and pre-filters on the
 * server; this is the one definition of a match every answer is checked against, so an index entry
 * a concurrent write has outdated never shows a finding that does not match.
 */
export function matchesFilter(f: Finding, filter: FindingsFilter): boolean {
  return (
    (!filter.status || f.status === filter.status) &&
    (!filter.severity || f.severity === filter.severity) &&
    (!filter.policyId || f.policyId === filter.policyId) &&
    (!filter.subscriptionId || (f.subscriptionId ?? "").toLowerCase() === filter.subscriptionId.toLowerCase()) &&
    (!filter.scopePrefix || scopeUnder(f.scope, filter.scopePrefix)) &&
    (!filter.principalId || f.principalId.toLowerCase() === filter.principalId.toLowerCase()) &&
    (!filter.seenFrom || f.lastSeen >= filter.seenFrom) &&
    (!filter.seenTo || f.firstSeen < filter.seenTo)
  );
}

/** Reads every page of a query, one at a time (exports stream these). */
export async function* allPages(reader: FindingsReader, filter: FindingsFilter, pageSize = MAX_PAGE_SIZE): AsyncGenerator<Finding[]> {
  let token: string | null = null;
  do {
    const page: FindingsPage = await reader.queryPage(filter, { pageSize, continuationToken: token });
    if (page.findings.length > 0) yield page.findings;
    token = page.continuationToken;
  } while (token);
}
