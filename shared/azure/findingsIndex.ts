import { createHash } from "node:crypto";
import { odata, RestError, type TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { findingsPartition, sanitizeKey } from "../findings/keys.js";
import { matchesFilter, scopeKeyOf, type FindingsFilter, type FindingsPage, type FindingsPageOptions } from "../findings/query.js";
import { parseScope } from "../facts/scope.js";
import { SEVERITIES } from "../model/severity.js";
import type { Finding } from "../model/finding.js";
import { mapConcurrently } from "../model/concurrency.js";
import { decodeContinuationToken, encodeContinuationToken, queryFingerprint, readPage } from "./pagedQuery.js";

// The findings' index entities (docs/findings-store.md, "Index entities"): rows in the findings
// table under partitions of their own, every key starting with "~" so that no findings query sees
// them. Written before the finding they point at and removed after it moved on, so an entry for
// each finding's current state always exists; an entry that is ahead of its finding (its write lost
// a race) is harmless, because every answer is checked against the finding itself.

const INDEX = "~idx.";
// Entries by id and by principal are spread over 16 partitions each (by a hex digit of a hash), so
// that a sweep's thousands of findings are written in transactions of 100, not one request each.
const bucketOf = (text: string) => createHash("sha256").update(text).digest("hex").charAt(0);
// By the assignment hash a finding id ends with: one assignment's findings share a bucket, so an
// event's entries are one transaction per index partition.
const byId = (findingId: string) => {
  const digit = findingId.slice(findingId.lastIndexOf(".") + 1).charAt(0);
  return `${INDEX}id.${/^[0-9a-f]$/.test(digit) ? digit : bucketOf(findingId)}`;
};
const byStatus = (status: string) => `${INDEX}status.${status}`;
const principalKey = (principalId: string) => sanitizeKey(principalId.toLowerCase());
const byPrincipal = (principalId: string) => `${INDEX}principal.${bucketOf(principalKey(principalId))}`;
/** Severity as a key: critical first. */
const rankOf = (severity: string) => String(SEVERITIES.length - 1 - SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]));
const MAX_BATCH = 100;
const WRITES_IN_FLIGHT = 16;
const READS_IN_FLIGHT = 16;
// An index entry that does not match its finding and is older than this is left over from a write
// that lost its race (or died): no writer takes this long between its index write and its commit.
const STALE_AFTER_MS = 15 * 60_000;
// One answer examines at most this many rows, then returns what it found with a continuation token.
const MAX_EXAMINED_PER_PAGE = 5_000;

interface IndexKey {
  readonly partitionKey: string;
  readonly rowKey: string;
}

/** The index entries of a finding in its current state. */
function indexKeys(f: Finding): IndexKey[] {
  const rank = rankOf(f.severity);
  const keys: IndexKey[] = [
    { partitionKey: byId(f.id), rowKey: `~${f.id}` },
    { partitionKey: byStatus(f.status), rowKey: `~${rank}.${f.id}` },
  ];
  if (f.principalId) keys.push({ partitionKey: byPrincipal(f.principalId), rowKey: `~${principalKey(f.principalId)}.${f.status}.${rank}.${f.id}` });
  return keys;
}

const keyOf = (k: IndexKey) => `${k.partitionKey}\n${k.rowKey}`;

function indexEntity(key: IndexKey, f: Finding, partition: string): TableEntity<Record<string, unknown>> {
  return {
    ...key,
    findingId: f.id,
    partition,
    status: f.status,
    severity: f.severity,
    policyId: f.policyId,
    principalKey: f.principalId.toLowerCase(),
    subscriptionKey: (f.subscriptionId ?? "").toLowerCase(),
    scopeKey: scopeKeyOf(f.scope),
  };
}

/** One finding's change as a writer sees it: what it read (null: new) and what it writes. */
export interface IndexedChange {
  readonly before: Finding | null;
  readonly after: Finding;
}

/**
 * Writes the index entries the new states need (before the findings' own commit): upserts, grouped
 * per index partition in transactions of at most 100. Idempotent.
 */
export async function writeIndexEntries(client: TableClient, partition: string, changes: readonly IndexedChange[]): Promise<void> {
  const byPartition = new Map<string, Map<string, TransactionAction>>();
  for (const { before, after } of changes) {
    const existing = new Set((before ? indexKeys(before) : []).map(keyOf));
    for (const key of indexKeys(after)) {
      if (existing.has(keyOf(key))) continue;
      const rows = byPartition.get(key.partitionKey) ?? new Map<string, TransactionAction>();
      rows.set(key.rowKey, ["upsert", indexEntity(key, after, partition), "Replace"]);
      byPartition.set(key.partitionKey, rows);
    }
  }
  const batches = [...byPartition.values()].flatMap((rows) => chunk([...rows.values()], MAX_BATCH));
  await mapConcurrently(batches, WRITES_IN_FLIGHT, (batch) => client.submitTransaction(batch));
}

/** Removes the entries of states the findings left (after their commit). An entry already gone is fine. */
export async function removeIndexEntries(client: TableClient, changes: readonly IndexedChange[]): Promise<void> {
  const gone: IndexKey[] = [];
  for (const { before, after } of changes) {
    if (!before) continue;
    const kept = new Set(indexKeys(after).map(keyOf));
    gone.push(...indexKeys(before).filter((k) => !kept.has(keyOf(k))));
  }
  await mapConcurrently(gone, WRITES_IN_FLIGHT, async (key) => {
    try {
      await client.deleteEntity(key.partitionKey, key.rowKey);
    } catch (error) {
      if (!(error instanceof RestError && error.statusCode === 404)) throw error;
    }
  });
}

/** Where a query reads: one index partition (and a key range in it), or the findings themselves. */
interface Plan {
  readonly kind: "index" | "findings";
  readonly filter: string;
}

const all = (clauses: string[]) => clauses.join(" and ");

function scopeClauses(prefix: string): string[] {
  const p = scopeKeyOf(prefix);
  if (p === "/") return [];
  // "p" itself or "p/…": "0" is the character after "/".
  return [`(${odata`scopeKey eq ${p}`} or (${odata`scopeKey ge ${`${p}/`}`} and ${odata`scopeKey lt ${`${p}0`}`}))`];
}

function planOf(filter: FindingsFilter): Plan {
  const props: string[] = [];
  if (filter.policyId) props.push(odata`policyId eq ${filter.policyId}`);
  if (filter.subscriptionId) props.push(odata`subscriptionKey eq ${filter.subscriptionId.toLowerCase()}`);
  if (filter.scopePrefix) props.push(...scopeClauses(filter.scopePrefix));
  const range = (from: string) => [odata`RowKey ge ${from}`, odata`RowKey lt ${`${from.slice(0, -1)}/`}`];
  if (filter.principalId) {
    const clauses = [odata`PartitionKey eq ${byPrincipal(filter.principalId)}`];
    const p = `~${principalKey(filter.principalId)}.`;
    if (filter.status && filter.severity) clauses.push(...range(`${p}${filter.status}.${rankOf(filter.severity)}.`));
    else if (filter.status) clauses.push(...range(`${p}${filter.status}.`));
    else {
      clauses.push(...range(p));
      if (filter.severity) props.push(odata`severity eq ${filter.severity}`);
    }
    return { kind: "index", filter: all([...clauses, ...props]) };
  }
  if (filter.status) {
    const clauses = [odata`PartitionKey eq ${byStatus(filter.status)}`];
    if (filter.severity) clauses.push(...range(`~${rankOf(filter.severity)}.`));
    return { kind: "index", filter: all([...clauses, ...props]) };
  }
  // No index fits: the findings, in one partition when the filter names a subscription (or a scope in one).
  const clauses = [odata`RowKey lt ${"~"}`];
  const scopeSubscription = filter.scopePrefix ? parseScope(filter.scopePrefix).subscriptionId : null;
  const partition = filter.subscriptionId?.toLowerCase() ?? (filter.scopePrefix && scopeSubscription ? findingsPartition(filter.scopePrefix) : null);
  if (partition) clauses.push(odata`PartitionKey eq ${partition}`);
  else clauses.push(odata`PartitionKey lt ${"~"}`);
  if (filter.severity) clauses.push(odata`severity eq ${filter.severity}`);
  if (filter.policyId) clauses.push(odata`policyId eq ${filter.policyId}`);
  if (filter.seenFrom) clauses.push(odata`lastSeen ge ${filter.seenFrom}`);
  if (filter.seenTo) clauses.push(odata`firstSeen lt ${filter.seenTo}`);
  return { kind: "findings", filter: clauses.join(" and ") };
}

/**
 * One page of findings matching `filter`, from the index partition that fits (a principal's, a
 * status's: one partition, severity as a key range) or else from the findings (one partition when
 * a subscription is named). Each round asks Table Storage for exactly the findings still missing,
 * so the continuation token is always Table Storage's own, wrapped with a hash of the filter.
 */
export async function queryFindingsPage(client: TableClient, filter: FindingsFilter, options: FindingsPageOptions, parse: (entity: Record<string, unknown>) => Finding, now: () => Date = () => new Date()): Promise<FindingsPage> {
  const plan = planOf(filter);
  const q = queryFingerprint({ ...filter, subscriptionId: filter.subscriptionId?.toLowerCase(), scopePrefix: filter.scopePrefix ? scopeKeyOf(filter.scopePrefix) : undefined, principalId: filter.principalId?.toLowerCase() });
  let next = options.continuationToken ? decodeContinuationToken(options.continuationToken, q) : null;
  const found: Finding[] = [];
  let examined = 0;
  do {
    const page = await readPage(client, plan.filter, next, options.pageSize - found.length);
    examined += page.rows.length;
    const findings = plan.kind === "index" ? await resolveEntries(client, page.rows, parse, now) : page.rows.map(parse);
    found.push(...findings.filter((f) => matchesFilter(f, filter)));
    next = page.next;
  } while (next && found.length < options.pageSize && examined < MAX_EXAMINED_PER_PAGE);
  return { findings: found, continuationToken: next ? encodeContinuationToken(q, next) : null };
}

/** The findings index entries point at, read by point reads; entries left over from lost races are skipped (and, once old, removed). */
async function resolveEntries(client: TableClient, entries: readonly Record<string, unknown>[], parse: (entity: Record<string, unknown>) => Finding, now: () => Date): Promise<Finding[]> {
  const resolved = await mapConcurrently(entries, READS_IN_FLIGHT, async (entry) => {
    const partition = String(entry.partition ?? "");
    const id = String(entry.findingId ?? "");
    let finding: Finding | null = null;
    try {
      finding = parse(await client.getEntity<Record<string, unknown>>(partition, id));
    } catch (error) {
      if (!(error instanceof RestError && error.statusCode === 404)) throw error;
    }
    const current = finding && indexKeys(finding).some((k) => k.partitionKey === entry.partitionKey && k.rowKey === entry.rowKey);
    if (!current) {
      const written = typeof entry.timestamp === "string" ? Date.parse(entry.timestamp) : Number.NaN;
      if (now().getTime() - written > STALE_AFTER_MS) {
        await client.deleteEntity(String(entry.partitionKey), String(entry.rowKey), { etag: String(entry.etag) }).catch((error: unknown) => {
          if (!(error instanceof RestError && (error.statusCode === 404 || error.statusCode === 412))) throw error;
        });
      }
      return null;
    }
    return finding;
  });
  return resolved.filter((f): f is Finding => f !== null);
}

/** The findings partition of a finding id, from its index entry; null when the id is unknown. */
export async function partitionOfFinding(client: TableClient, findingId: string): Promise<string | null> {
  try {
    const entry = await client.getEntity<{ partition?: unknown }>(byId(findingId), `~${sanitizeKey(findingId)}`);
    return typeof entry.partition === "string" ? entry.partition : null;
  } catch (error) {
    if (error instanceof RestError && error.statusCode === 404) return null;
    throw error;
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
