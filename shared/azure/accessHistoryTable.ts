import { odata, RestError, type TableClient, type TableEntity } from "@azure/data-tables";
import { z } from "zod";
import type { AccessHistory, AccessInterval, AccessPage, AccessQuery, AccessSource, PresentAssignment } from "../findings/access.js";
import { assignmentHash, findingsPartition, sanitizeKey, scopeOfAssignmentId } from "../findings/keys.js";
import { scopeKeyOf } from "../findings/query.js";
import { ConcurrentChangeError, StoreCorruptError } from "../errors.js";
import { mapConcurrently } from "../model/concurrency.js";
import { decodeContinuationToken, encodeContinuationToken, queryFingerprint, readPage, type Position } from "./pagedQuery.js";
import { ensureTable } from "./tables.js";

// The access history (docs/findings-store.md, "accessHistory"): one row per life of an assignment,
// in its scope's partition (`s.{findings partition}`, RowKey `{assignment hash}.{createdOn}`), and a
// copy in its principal's (`p.{object id}`), so "who held what at X" is one partition's range.

// An open interval's `to`, stored so that "held at t" is `from le t and to gt t` (a missing value compares as nothing).
const OPEN = "9999-12-31T23:59:59.999Z";
const MAX_TRIES = 20;
const WRITES_IN_FLIGHT = 8;

const scopePartition = (scope: string) => `s.${findingsPartition(scope)}`;
const principalPartition = (principalId: string) => `p.${sanitizeKey(principalId.toLowerCase())}`;
const lifeKey = (assignmentId: string, createdOn: string | null) => `${assignmentHash(assignmentId)}.${createdOn ? sanitizeKey(createdOn) : "unknown"}`;

const rowSchema = z.object({
  assignmentId: z.string(),
  scope: z.string(),
  scopeKey: z.string(),
  principalId: z.string(),
  principalType: z.string(),
  roleDefinitionId: z.string(),
  roleName: z.string().nullish(),
  from: z.string(),
  to: z.string(),
  lastSeenAt: z.string(),
  deletedAt: z.string().nullish(),
  goneAt: z.string().nullish(),
  grantedBy: z.string().nullish(),
  openedBy: z.enum(["event", "sweep"]),
  revision: z.number().int(),
});
type Row = z.infer<typeof rowSchema>;

const min = (a: string | null | undefined, b: string | null | undefined) => (a && b ? (a < b ? a : b) : (a ?? b ?? null));
const max = (a: string, b: string) => (a > b ? a : b);

/** An interval's end from its evidence: a delete event is final; a sweep's absence holds only until a later sighting. */
function withEnd(row: Omit<Row, "to">): Row {
  const goneAt = row.goneAt && row.goneAt > row.lastSeenAt ? row.goneAt : null;
  return { ...row, goneAt, to: row.deletedAt ?? goneAt ?? OPEN };
}

// Table Storage keeps no nulls: an absent value is read back as null.
function stored(partitionKey: string, rowKey: string, row: Row): TableEntity<Record<string, unknown>> {
  return { partitionKey, rowKey, ...Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null && v !== undefined)) };
}

function toInterval(row: Row): AccessInterval {
  return {
    assignmentId: row.assignmentId,
    scope: row.scope,
    principalId: row.principalId,
    principalType: row.principalType,
    roleDefinitionId: row.roleDefinitionId,
    roleName: row.roleName ?? null,
    from: row.from,
    to: row.to === OPEN ? null : row.to,
    grantedBy: row.grantedBy ?? null,
    openedBy: row.openedBy,
    closedBy: row.deletedAt ? "event" : row.goneAt ? "sweep" : null,
    lastSeenAt: row.lastSeenAt,
  };
}

/** The access history in Table Storage: conditional writes (ETags), so concurrent deliveries agree on one row per life. */
export class TableAccessHistory implements AccessHistory {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
  }

  #parse(entity: Record<string, unknown>): Row {
    const parsed = rowSchema.safeParse(entity);
    if (!parsed.success) throw new StoreCorruptError(`access interval ${String(entity.partitionKey)}/${String(entity.rowKey)} in table ${this.client.tableName} is malformed: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  async #get(partitionKey: string, rowKey: string): Promise<{ row: Row; etag: string } | null> {
    try {
      const entity = await this.client.getEntity<Record<string, unknown>>(partitionKey, rowKey);
      return { row: this.#parse(entity), etag: entity.etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return null;
      throw error;
    }
  }

  /** Creates a row; false when it exists already. */
  async #create(partitionKey: string, rowKey: string, row: Row): Promise<boolean> {
    try {
      await this.client.createEntity(stored(partitionKey, rowKey, row));
      return true;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) return false;
      throw error;
    }
  }

  /** Read, change, write only if unchanged meanwhile (or created by nobody else); then bring the principal's copy up to it. */
  async #update(partitionKey: string, rowKey: string, change: (current: Row | null) => Row | null): Promise<void> {
    for (let i = 0; i < MAX_TRIES; i++) {
      const current = await this.#get(partitionKey, rowKey);
      const next = change(current?.row ?? null);
      if (next === null) return;
      const same = current && JSON.stringify({ ...current.row, revision: 0 }) === JSON.stringify({ ...next, revision: 0 });
      const written = same ? current.row : { ...next, revision: (current?.row.revision ?? 0) + 1 };
      if (!same) {
        const entity = stored(partitionKey, rowKey, written);
        try {
          if (current) await this.client.updateEntity(entity, "Replace", { etag: current.etag });
          else await this.client.createEntity(entity);
        } catch (error) {
          if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409)) continue;
          throw error;
        }
      }
      // The copy is brought up to date even when nothing changed: a writer that died before it left it behind.
      await this.#syncCopy(rowKey, written);
      return;
    }
    throw new ConcurrentChangeError(`access interval ${partitionKey}/${rowKey} kept changing under ${MAX_TRIES} concurrent writers`);
  }

  /** The principal's copy of a row: written only forward (by revision), so a late writer never puts an older state back. */
  async #syncCopy(rowKey: string, row: Row): Promise<void> {
    const partitionKey = principalPartition(row.principalId);
    for (let i = 0; i < MAX_TRIES; i++) {
      const copy = await this.#get(partitionKey, rowKey);
      if (copy && copy.row.revision >= row.revision) return;
      try {
        const entity = stored(partitionKey, rowKey, row);
        if (copy) await this.client.updateEntity(entity, "Replace", { etag: copy.etag });
        else await this.client.createEntity(entity);
        return;
      } catch (error) {
        if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 409)) continue;
        throw error;
      }
    }
  }

  async recordPresent(present: PresentAssignment, at: string, source: AccessSource): Promise<void> {
    await this.#ensure();
    const a = present.assignment;
    const partitionKey = scopePartition(a.scope);
    const rowKey = lifeKey(a.id, a.createdOn);
    // A new life (the common case: a grant's first delivery) is one round trip: both rows created at once.
    const fresh = withEnd({ assignmentId: a.id, scope: a.scope, scopeKey: scopeKeyOf(a.scope), principalId: a.principalId.toLowerCase(), principalType: a.principalType, roleDefinitionId: a.roleDefinitionId, roleName: present.roleName, from: a.createdOn ?? at, lastSeenAt: at, deletedAt: null, goneAt: null, grantedBy: present.grantedBy, openedBy: source, revision: 1 });
    const created = await Promise.all([this.#create(partitionKey, rowKey, fresh), this.#create(principalPartition(fresh.principalId), rowKey, fresh)]);
    if (created[0]) return;
    // It exists: merge what was seen into it (the principal's copy follows, forward only).
    await this.#update(partitionKey, rowKey, (current) =>
      withEnd({
        assignmentId: current?.assignmentId ?? a.id,
        scope: a.scope,
        scopeKey: scopeKeyOf(a.scope),
        principalId: a.principalId.toLowerCase(),
        principalType: a.principalType,
        roleDefinitionId: a.roleDefinitionId,
        roleName: present.roleName ?? current?.roleName ?? null,
        from: min(current?.from, a.createdOn ?? at) ?? at,
        lastSeenAt: current ? max(current.lastSeenAt, at) : at,
        deletedAt: current?.deletedAt ?? null,
        goneAt: current?.goneAt ?? null,
        grantedBy: current?.grantedBy ?? present.grantedBy,
        openedBy: current?.openedBy ?? source,
        revision: current?.revision ?? 0,
      }),
    );
  }

  async recordDeleted(assignmentId: string, at: string): Promise<void> {
    await this.#ensure();
    const partitionKey = scopePartition(scopeOfAssignmentId(assignmentId));
    const prefix = `${assignmentHash(assignmentId)}.`;
    const filter = [odata`PartitionKey eq ${partitionKey}`, odata`RowKey ge ${prefix}`, odata`RowKey lt ${`${prefix.slice(0, -1)}/`}`].join(" and ");
    const keys: string[] = [];
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: ["RowKey"] } })) keys.push(String(entity.rowKey));
    // Only a life that began by the delete ends with it; one created again afterwards goes on.
    await mapConcurrently(keys, WRITES_IN_FLIGHT, (rowKey) =>
      this.#update(partitionKey, rowKey, (current) => (current && current.from <= at ? withEnd({ ...current, deletedAt: min(current.deletedAt, at) }) : null)),
    );
  }

  async recordSweep(partition: string, present: readonly PresentAssignment[], at: string): Promise<void> {
    await this.#ensure();
    const partitionKey = `s.${partition}`;
    const open = new Map<string, Row>();
    const filter = [odata`PartitionKey eq ${partitionKey}`, odata`to eq ${OPEN}`].join(" and ");
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) open.set(String(entity.rowKey), this.#parse(entity));
    const seen = new Set<string>();
    const changed: PresentAssignment[] = [];
    for (const p of present) {
      if (scopePartition(p.assignment.scope) !== partitionKey) throw new TypeError(`assignment ${p.assignment.id} is not in partition ${partition}`);
      const key = lifeKey(p.assignment.id, p.assignment.createdOn);
      seen.add(key);
      // A steady tenant writes nothing: an open interval already seen is not rewritten for the sweep's clock alone.
      const row = open.get(key);
      if (!row || row.principalId !== p.assignment.principalId.toLowerCase() || row.goneAt) changed.push(p);
    }
    await mapConcurrently(changed, WRITES_IN_FLIGHT, (p) => this.recordPresent(p, at, "sweep"));
    const missing = [...open.entries()].filter(([key, row]) => !seen.has(key) && row.lastSeenAt < at);
    await mapConcurrently(missing, WRITES_IN_FLIGHT, ([rowKey]) =>
      this.#update(partitionKey, rowKey, (current) => (current && current.to === OPEN && current.lastSeenAt < at ? withEnd({ ...current, goneAt: min(current.goneAt, at) }) : null)),
    );
  }

  async queryPage(query: AccessQuery, options: { readonly pageSize: number; readonly continuationToken?: string | null }): Promise<AccessPage> {
    await this.#ensure();
    if (!query.principalId && !query.scopePrefix) throw new TypeError("an access query names a principal or a scope");
    const clauses = [query.principalId ? odata`PartitionKey eq ${principalPartition(query.principalId)}` : odata`PartitionKey eq ${scopePartition(query.scopePrefix ?? "/")}`];
    const prefix = query.scopePrefix ? scopeKeyOf(query.scopePrefix) : null;
    if (prefix && prefix !== "/") clauses.push(`(${odata`scopeKey eq ${prefix}`} or (${odata`scopeKey ge ${`${prefix}/`}`} and ${odata`scopeKey lt ${`${prefix}0`}`}))`);
    clauses.push(odata`from le ${query.at}`, odata`to gt ${query.at}`);
    const filter = clauses.join(" and ");
    const q = queryFingerprint({ principal: query.principalId?.toLowerCase(), scope: prefix, at: query.at });
    let next: Position | null = options.continuationToken ? decodeContinuationToken(options.continuationToken, q) : null;
    const intervals: AccessInterval[] = [];
    do {
      const page = await readPage(this.client, filter, next, options.pageSize - intervals.length);
      intervals.push(...page.rows.map((row) => toInterval(this.#parse(row))));
      next = page.next;
    } while (next && intervals.length < options.pageSize);
    return { intervals, continuationToken: next ? encodeContinuationToken(q, next) : null };
  }
}
