import { createHash, randomUUID } from "node:crypto";
import { evaluateQuery } from "../kql/evaluate.js";
import { KqlError, tableFromRows, toPlain, type Column, type ColumnType, type Table } from "../kql/values.js";
import { armCaller } from "./armRequest.js";
import { HttpError, UNKNOWN_ROUTE, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";
import type { TenantState } from "./tenant.js";
import { parseKql, usesOperator } from "../kql/syntax.js";

// `take` and `limit` parse as TakeOperator; `sample` and `sample-distinct` as their own operators.
const UNPAGED_OPERATORS = new Set(["TakeOperator", "SampleOperator", "SampleDistinctOperator"]);

// Azure Resource Graph's query API (POST /providers/Microsoft.ResourceGraph/resources) over the
// tenant's role assignments and definitions (the `authorizationresources` table), running the
// query text through the local KQL evaluator, with ARG's paging and per-user quota. See
// README.md "Resource Graph".

/** The stable api-versions of azure-rest-api-specs specification/resourcegraph/…/Microsoft.ResourceGraph/stable. */
const API_VERSIONS: ReadonlySet<string> = new Set(["2019-04-01", "2021-03-01", "2022-10-01", "2024-04-01"]);
const RESOURCES_PATH = "/providers/microsoft.resourcegraph/resources";
const MAX_TOP = 1000;
const DEFAULT_TOP = 100;
const SCOPE_FILTERS = ["AtScopeAndBelow", "AtScopeAndAbove", "AtScopeExact", "AtScopeAboveAndBelow"] as const;
type ScopeFilter = (typeof SCOPE_FILTERS)[number];

/** ARG's per-user quota: `queries` per `windowMs` (the docs' example: 15 per 5 seconds). */
export interface ResourceGraphQuota {
  readonly queries: number;
  readonly windowMs: number;
}

/** The quota Azure documents as its example (guidance-for-throttled-requests.md). */
export const DEFAULT_RESOURCE_GRAPH_QUOTA: ResourceGraphQuota = { queries: 15, windowMs: 5_000 };

/** The columns every ARG table row carries (the `resources` schema), `properties` holding the ARM resource's properties. */
const COLUMNS: readonly Column[] = [
  { name: "id", type: "string" },
  { name: "name", type: "string" },
  { name: "type", type: "string" },
  { name: "tenantId", type: "string" },
  { name: "kind", type: "string" },
  { name: "location", type: "string" },
  { name: "resourceGroup", type: "string" },
  { name: "subscriptionId", type: "string" },
  { name: "managedBy", type: "string" },
  { name: "sku", type: "dynamic" },
  { name: "plan", type: "dynamic" },
  { name: "properties", type: "dynamic" },
  { name: "tags", type: "dynamic" },
  { name: "identity", type: "dynamic" },
  { name: "zones", type: "dynamic" },
  { name: "extendedLocation", type: "dynamic" },
];

/** ARG's error body: BadRequest with a support line, and details naming what is wrong. */
function badRequest(details: readonly Record<string, unknown>[], headers: Record<string, string>): HttpError {
  return new HttpError(400, { error: { code: "BadRequest", message: `Please provide below info when asking for support: timestamp = ${new Date().toISOString()}, correlationId = ${randomUUID()}.`, details } }, headers);
}

const INVALID_QUERY = { code: "InvalidQuery", message: "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying." };

interface ResultSet {
  readonly table: Table;
  readonly pageable: boolean;
}

interface SkipToken {
  readonly set: string;
  readonly offset: number;
  readonly top: number;
}

/** Azure Resource Graph's `resources` query over the tenant's authorization resources, with paging and the per-user quota. */
export class ResourceGraphService implements SimulatedService {
  /** The per-caller quota (tests and the bench set it; a reset restores the default). */
  quota: ResourceGraphQuota = DEFAULT_RESOURCE_GRAPH_QUOTA;
  /** The clock the quota windows read. */
  clock: () => number = Date.now;
  readonly #windows = new Map<string, { start: number; used: number }>();
  // Result sets a skip token points into: a paged read sees one consistent result, as a snapshot.
  readonly #sets = new Map<string, ResultSet>();
  readonly #tables = new WeakMap<TenantState, Map<string, { readonly version: string; readonly table: Table; readonly scopes: readonly string[] }>>();

  constructor(private readonly context: SimulatorContext) {}

  /** Clears quota windows and result sets, and restores the default quota and clock. */
  reset(): void {
    this.quota = DEFAULT_RESOURCE_GRAPH_QUOTA;
    this.clock = Date.now;
    this.#windows.clear();
    this.#sets.clear();
  }

  /** "resourceGraph.resources" for POST /providers/Microsoft.ResourceGraph/resources; UNKNOWN_ROUTE for the provider's other paths. */
  routeOf(method: string, lowerPath: string): string | null {
    if (!lowerPath.startsWith("/providers/microsoft.resourcegraph/")) return null;
    return method === "POST" && lowerPath === RESOURCES_PATH ? "resourceGraph.resources" : UNKNOWN_ROUTE;
  }

  /** Runs the request's query against the scopes it names, one page at a time, charging the caller's quota. */
  handle(request: ServiceRequest): ServiceResponse {
    const caller = armCaller(this.context, request, API_VERSIONS);
    const headers = this.#charge(caller.oid ?? caller.sub ?? "anonymous");
    const body = parseBody(request.body, headers);
    const state = this.context.state();
    const scopeKey = JSON.stringify([body.subscriptions, body.managementGroups, body.scopeFilter]);
    const setId = createHash("sha256").update(`${body.query}\n${scopeKey}`).digest("hex").slice(0, 16);
    let token: SkipToken | null = null;
    if (body.skipToken !== undefined) {
      token = readSkipToken(body.skipToken);
      if (!token || token.set !== setId) throw badRequest([{ code: "InvalidSkipToken", message: "The skip token is invalid, or was issued for another query or other scopes." }], headers);
    }
    let set = token ? this.#sets.get(`${setId}:${token.offset}`) : undefined;
    if (!set) set = this.#run(state, body, headers);
    const top = body.top ?? token?.top ?? DEFAULT_TOP;
    const offset = body.skip ?? token?.offset ?? 0;
    const rows = set.table.rows.slice(offset, offset + top);
    const more = offset + rows.length < set.table.rows.length;
    const answer: Record<string, unknown> = {
      totalRecords: set.table.rows.length,
      count: rows.length,
      // Without an id to keep pages stable (or with take/limit/sample, read from the parse tree) ARG gives no skip token: the rest is cut off.
      resultTruncated: more && !set.pageable ? "true" : "false",
      facets: [],
      data: body.resultFormat === "table" ? asTable(set.table.columns, rows) : rows.map((row) => Object.fromEntries(set.table.columns.map((c, i) => [c.name, toPlain(row[i] ?? null)]))),
    };
    if (more && set.pageable) {
      const next = { set: setId, offset: offset + rows.length, top };
      this.#remember(`${setId}:${next.offset}`, set);
      answer.$skipToken = Buffer.from(JSON.stringify(next)).toString("base64");
    }
    return { status: 200, body: answer, headers };
  }

  // A table as of the tenant's current assignments and definitions: built once per change, not
  // per query (its rows are values the queries never modify). The containers (subscriptions and
  // management groups) are fixed for a tenant's life, so one version serves both tables.
  #table(state: TenantState, name: "authorizationresources" | "resourcecontainers"): { readonly table: Table; readonly scopes: readonly string[] } {
    const version = `${state.assignments.version}:${state.definitions.version}`;
    const cached = this.#tables.get(state)?.get(name);
    if (cached?.version === version) return cached;
    const rows = name === "authorizationresources" ? authorizationRows(state) : containerRows(state);
    const built = { version, table: tableFromRows(rows.map((r) => r.row), COLUMNS), scopes: rows.map((r) => r.scope) };
    const byName = this.#tables.get(state) ?? new Map();
    byName.set(name, built);
    this.#tables.set(state, byName);
    return built;
  }

  #remember(key: string, set: ResultSet): void {
    this.#sets.set(key, set);
    // A handful of paged reads in flight at once; older chains recompute from the tenant.
    while (this.#sets.size > 64) this.#sets.delete(this.#sets.keys().next().value as string);
  }

  /** Charges one query to the caller's window; throws 429 when the window's quota is spent. Returns the quota headers. */
  #charge(caller: string): Record<string, string> {
    const now = this.clock();
    let window = this.#windows.get(caller);
    if (!window || now - window.start >= this.quota.windowMs) {
      window = { start: now, used: 0 };
      this.#windows.set(caller, window);
    }
    const resetsMs = window.start + this.quota.windowMs - now;
    if (window.used >= this.quota.queries) {
      const headers = quotaHeaders(0, resetsMs);
      throw new HttpError(
        429,
        { error: { code: "RateLimiting", message: `Please provide below info when asking for support: timestamp = ${new Date(now).toISOString()}, correlationId = ${randomUUID()}.`, details: [{ code: "RateLimiting", message: "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help." }] } },
        { ...headers, "retry-after": String(Math.max(1, Math.ceil(resetsMs / 1000))) },
      );
    }
    window.used += 1;
    return quotaHeaders(this.quota.queries - window.used, resetsMs);
  }

  #run(state: TenantState, body: QueryBody, headers: Record<string, string>): ResultSet {
    // Each table is taken from the cache (built once per change) only when the query names it.
    const inScope = scopePredicate(state, body);
    const tables = new Map<string, Table>();
    const table = (name: string): Table | undefined => {
      const key = name.toLowerCase();
      if (key !== "authorizationresources" && key !== "resourcecontainers") return undefined;
      let built = tables.get(key);
      if (!built) {
        const all = this.#table(state, key);
        built = !body.subscriptions && !body.managementGroups ? all.table : { columns: all.table.columns, rows: all.table.rows.filter((_, i) => inScope(all.scopes[i]!)) };
        tables.set(key, built);
      }
      return built;
    };
    let result: Table;
    try {
      result = evaluateQuery(body.query, { nowMs: Date.now(), table });
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      throw badRequest([INVALID_QUERY, queryErrorDetail(body.query, error)], headers);
    }
    // ARG pages with a skip token only when every row has an id and the query does not cap its rows itself.
    const pageable = result.columns.some((c) => c.name === "id") && !usesOperator(parseKql(body.query).root, UNPAGED_OPERATORS);
    return { table: result, pageable };
  }
}

interface QueryBody {
  readonly query: string;
  readonly subscriptions: readonly string[] | null;
  readonly managementGroups: readonly string[] | null;
  readonly top: number | undefined;
  readonly skip: number | undefined;
  readonly skipToken: string | undefined;
  readonly resultFormat: "objectArray" | "table";
  readonly scopeFilter: ScopeFilter;
}

/** The request body checked against the spec's QueryRequest; ARG's 400 names the first property that is wrong. */
function parseBody(raw: unknown, headers: Record<string, string>): QueryBody {
  const invalid = (message: string) => badRequest([{ code: "InvalidRequestContent", message }], headers);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw invalid("The request content is missing or is not a JSON object.");
  const body = raw as Record<string, unknown>;
  if (typeof body.query !== "string" || body.query.trim() === "") throw badRequest([INVALID_QUERY, { code: "EmptyQuery", message: "The query is missing or empty." }], headers);
  const strings = (name: string): readonly string[] | null => {
    const value = body[name];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) throw invalid(`'${name}' must be an array of non-empty strings.`);
    return (value as string[]).map((v) => v.toLowerCase());
  };
  const options = (body.options ?? {}) as Record<string, unknown>;
  if (typeof options !== "object" || Array.isArray(options)) throw invalid("'options' must be an object.");
  const integer = (name: string, min: number, max: number): number | undefined => {
    const value = options[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) throw invalid(`'options.${name}' must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`);
    return value;
  };
  const format = options.resultFormat ?? "objectArray";
  if (format !== "objectArray" && format !== "table") throw invalid(`'options.resultFormat' must be 'table' or 'objectArray', got ${JSON.stringify(format)}.`);
  const scopeFilter = options.authorizationScopeFilter ?? "AtScopeAndBelow";
  if (!SCOPE_FILTERS.includes(scopeFilter as ScopeFilter)) throw invalid(`'options.authorizationScopeFilter' must be one of ${SCOPE_FILTERS.join(", ")}.`);
  const skipToken = options.$skipToken;
  if (skipToken !== undefined && skipToken !== null && typeof skipToken !== "string") throw invalid("'options.$skipToken' must be a string.");
  return {
    query: body.query,
    subscriptions: strings("subscriptions"),
    managementGroups: strings("managementGroups"),
    top: integer("$top", 1, MAX_TOP),
    skip: integer("$skip", 0, Number.MAX_SAFE_INTEGER),
    skipToken: typeof skipToken === "string" ? skipToken : undefined,
    resultFormat: format,
    scopeFilter: scopeFilter as ScopeFilter,
  };
}

function readSkipToken(text: string): SkipToken | null {
  try {
    const parsed = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as Partial<SkipToken>;
    if (typeof parsed.set !== "string" || !Number.isInteger(parsed.offset) || !Number.isInteger(parsed.top)) return null;
    return { set: parsed.set, offset: parsed.offset!, top: parsed.top! };
  } catch {
    return null;
  }
}

/** hh:mm:ss, rounded up to the second (a caller that waits that long finds a fresh window). */
function quotaHeaders(remaining: number, resetsMs: number): Record<string, string> {
  const total = Math.max(0, Math.ceil(resetsMs / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  return { "x-ms-user-quota-remaining": String(Math.max(0, remaining)), "x-ms-user-quota-resets-after": `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}` };
}

/** A KQL error as ARG details it: ParserFailure with line and position for syntax, InvalidQueryLanguage with the token for the rest. */
function queryErrorDetail(query: string, error: KqlError): Record<string, unknown> {
  const before = query.slice(0, error.position ?? 0).split("\n");
  const line = error.position === undefined ? -1 : before.length;
  const characterPositionInLine = error.position === undefined ? -1 : (before.at(-1) ?? "").length;
  const token = error.position === undefined ? "" : (/^[^\s|]+/.exec(query.slice(error.position))?.[0] ?? "");
  if (error.kind === "SyntaxError") return { code: "ParserFailure", message: error.message, line, characterPositionInLine, token };
  return { code: "InvalidQueryLanguage", message: error.message.replace("this Log Analytics workspace's query engine", "Azure Resource Graph"), line, characterPositionInLine, token };
}

const ARG_TYPES: Record<ColumnType, string> = { string: "string", long: "integer", real: "number", bool: "boolean", datetime: "datetime", timespan: "string", dynamic: "object" };

function asTable(columns: readonly Column[], rows: Table["rows"]): unknown {
  return { columns: columns.map((c) => ({ name: c.name, type: ARG_TYPES[c.type] })), rows: rows.map((row) => row.map((v) => toPlain(v))) };
}

/** The scope an id lives at: everything before its last /providers/Microsoft.Authorization/…; "/" for tenant-level ids. */
function scopeOfId(id: string): string {
  const index = id.toLowerCase().lastIndexOf("/providers/microsoft.authorization/");
  return index <= 0 ? "/" : id.slice(0, index);
}

/**
 * `authorizationresources` rows: every role assignment below the tenant root and every role
 * definition, shaped as ARG shapes resources (type lower-cased, the ARM properties as they are).
 * Root-scope ("/") assignments are left out: the docs do not say ARG holds them (README.md).
 */
function authorizationRows(state: TenantState): { scope: string; row: Record<string, unknown> }[] {
  const rows: { scope: string; row: Record<string, unknown> }[] = [];
  const base = (id: string, name: string, type: string, scope: string, properties: unknown) => {
    const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1] ?? "";
    const group = /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)/i.exec(scope)?.[1] ?? "";
    return { id, name, type, tenantId: state.tenantId, kind: "", location: "", resourceGroup: group.toLowerCase(), subscriptionId: sub.toLowerCase(), managedBy: "", properties };
  };
  for (const a of state.assignments.values()) {
    if (a.properties.scope === "/" || a.properties.scope === "") continue;
    rows.push({ scope: a.properties.scope, row: base(a.id, a.name, "microsoft.authorization/roleassignments", a.properties.scope, a.properties) });
  }
  for (const d of state.definitions.values()) {
    const scope = scopeOfId(d.id);
    rows.push({ scope, row: base(d.id, d.name, "microsoft.authorization/roledefinitions", scope, d.properties) });
  }
  return rows;
}

/**
 * `resourcecontainers` rows for the tenant's subscriptions and management groups, as the
 * management-group samples of azure-docs read them: a subscription's
 * `properties.managementGroupAncestorsChain` and a management group's
 * `properties.details.managementGroupAncestorsChain`, each from the immediate parent up to the
 * root group, as `{ name, displayName }`.
 */
function containerRows(state: TenantState): { scope: string; row: Record<string, unknown> }[] {
  const groups = new Map(state.managementGroups.map((mg) => [mg.name.toLowerCase(), mg]));
  const parentOf = (name: string): string | null => {
    const parent = (groups.get(name.toLowerCase())?.properties as { details?: { parent?: { id?: string } | null } } | undefined)?.details?.parent?.id;
    return parent ? (parent.split("/").pop() ?? null) : null;
  };
  const chainFrom = (first: string | null) => {
    const chain: { name: string; displayName: string }[] = [];
    const seen = new Set<string>();
    for (let name = first; name && !seen.has(name.toLowerCase()); name = parentOf(name)) {
      seen.add(name.toLowerCase());
      const displayName = (groups.get(name.toLowerCase())?.properties as { displayName?: string } | undefined)?.displayName ?? name;
      chain.push({ name: groups.get(name.toLowerCase())?.name ?? name, displayName });
    }
    return chain;
  };
  const empty = { kind: "", location: "", resourceGroup: "", managedBy: "" };
  const rows: { scope: string; row: Record<string, unknown> }[] = [];
  for (const s of state.subscriptions) {
    const id = `/subscriptions/${s.subscriptionId}`;
    const parent = s.managementGroupId ? (s.managementGroupId.split("/").pop() ?? null) : null;
    const properties = { state: (s as { state?: string }).state ?? "Enabled", managementGroupAncestorsChain: chainFrom(parent) };
    rows.push({ scope: id, row: { id, name: s.displayName ?? s.subscriptionId, type: "microsoft.resources/subscriptions", tenantId: state.tenantId, ...empty, subscriptionId: s.subscriptionId.toLowerCase(), properties } });
  }
  for (const mg of state.managementGroups) {
    const displayName = (mg.properties as { displayName?: string } | undefined)?.displayName ?? mg.name;
    const properties = { displayName, tenantId: state.tenantId, details: { managementGroupAncestorsChain: chainFrom(parentOf(mg.name)) } };
    rows.push({ scope: mg.id, row: { id: mg.id, name: mg.name, type: "microsoft.management/managementgroups", tenantId: state.tenantId, ...empty, subscriptionId: "", properties } });
  }
  return rows;
}

/** Whether a row at a scope answers a request for its subscriptions and management groups (none: the tenant); the request's scopes are resolved once. */
function scopePredicate(state: TenantState, body: QueryBody): (rowScope: string) => boolean {
  if (!body.subscriptions && !body.managementGroups) return () => true;
  const requested = [...(body.subscriptions ?? []).map((s) => `/subscriptions/${s}`), ...(body.managementGroups ?? []).map((m) => `/providers/microsoft.management/managementgroups/${m}`)].map((scope) => ({ scope, above: state.ancestors(scope) }));
  return (rowScope) => {
    const row = rowScope.toLowerCase();
    const rowAncestors = state.ancestors(rowScope);
    return requested.some(({ scope, above: scopeAncestors }) => {
      const at = row === scope;
      const below = rowAncestors.includes(scope);
      const above = scopeAncestors.includes(row === "" ? "/" : row);
      switch (body.scopeFilter) {
        case "AtScopeExact":
          return at;
        case "AtScopeAndBelow":
          return at || below;
        case "AtScopeAndAbove":
          return at || above;
        case "AtScopeAboveAndBelow":
          return at || above || below;
      }
    });
  };
}
