import { randomUUID } from "node:crypto";
import { evaluateQuery } from "../kql/evaluate.js";
import { KDateTime, KqlError, tableFromRows, toWire, type Column, type Table } from "../kql/values.js";
import { HttpError, UNKNOWN_ROUTE, type Refusal, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";
import type { TenantState } from "./tenant.js";

// The Log Analytics query API (POST /v1/workspaces/{id}/query) over the tenant snapshot's `logs`
// section, running the query text through the local KQL evaluator. See README.md "Log Analytics".

const AUDIENCES = ["https://api.loganalytics.io", "https://api.loganalytics.azure.com"];

/** The one workspace the simulator serves (its logs are the snapshot's). */
export const LOCAL_WORKSPACE_ID = "4d7a0e52-6b1c-4f8e-9a3d-2c5b8e1f0a67";

const text = (name: string): Column => ({ name, type: "string" });
const TIME: Column = { name: "TimeGenerated", type: "datetime" };

/**
 * The columns of the tables the product reads, as the Azure Monitor table reference lists them (a
 * subset): a table the snapshot leaves empty still resolves, and its columns keep their types.
 */
const SCHEMAS: Readonly<Record<string, readonly Column[]>> = {
  SigninLogs: [TIME, text("UserId"), text("UserPrincipalName"), text("UserType"), text("AppId"), text("ResultType"), text("IPAddress"), text("ResourceIdentity"), { name: "LocationDetails", type: "dynamic" }, { name: "Status", type: "dynamic" }],
  // Its nested fields are strings here (parse_json them), unlike SigninLogs.
  AADNonInteractiveUserSignInLogs: [TIME, text("UserId"), text("UserPrincipalName"), text("UserType"), text("AppId"), text("ResultType"), text("IPAddress"), text("ResourceIdentity"), text("LocationDetails"), text("Status")],
  AADServicePrincipalSignInLogs: [TIME, text("ServicePrincipalId"), text("ServicePrincipalName"), text("AppId"), text("ResultType"), text("ServicePrincipalCredentialKeyId"), text("FederatedCredentialId"), text("IPAddress"), text("ResourceIdentity")],
  AADManagedIdentitySignInLogs: [TIME, text("ServicePrincipalId"), text("ServicePrincipalName"), text("AppId"), text("ResultType"), text("ResourceIdentity")],
  AzureActivity: [TIME, text("OperationNameValue"), text("ActivityStatusValue"), text("CategoryValue"), text("Caller"), text("CallerIpAddress"), text("CorrelationId"), text("_ResourceId"), text("SubscriptionId"), { name: "Properties_d", type: "dynamic" }, { name: "Claims_d", type: "dynamic" }, { name: "Authorization_d", type: "dynamic" }],
};

/** The service's limits (Azure Monitor service limits: 500,000 rows, ~64 MB per answer). */
export interface LogAnalyticsLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
}

const DEFAULT_LIMITS: LogAnalyticsLimits = { maxRows: 500_000, maxBytes: 64 * 1024 * 1024 };

const badArgument = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  new HttpError(400, { error: { message: "The request had some invalid properties", code: "BadArgumentError", correlationId: randomUUID(), innererror: { code, message, ...extra } } });

/** The query API's 401 and 403 (azure-monitor/logs/api/errors.md). */
const refuse: Refusal = (reason, _code, hadToken) =>
  hadToken ? new HttpError(403, { error: { code: "InvalidAuthenticationToken", message: `The access token is invalid. ${reason}` } }) : new HttpError(401, { error: { code: "AuthenticationFailed", message: reason } });

/** The Log Analytics query API over the tenant's logs, with its limits and a partial-failure hook. */
export class LogAnalyticsService implements SimulatedService {
  /** The clock ago() and timespans read (tests pin it). */
  clock: () => number = Date.now;
  limits: LogAnalyticsLimits = DEFAULT_LIMITS;
  #partialFailures: string[] = [];
  readonly #tables = new WeakMap<TenantState, Map<string, Table>>();

  constructor(private readonly context: SimulatorContext) {}

  /** The next `count` queries answer their rows with a partial error, as a query a shard failed on does. */
  failPartially(message = "Query execution failed on one of the workspace's shards.", count = 1): void {
    for (let i = 0; i < count; i += 1) this.#partialFailures.push(message);
  }

  /** Clears the hooks (a simulator reset). */
  reset(): void {
    this.#partialFailures = [];
    this.limits = DEFAULT_LIMITS;
    this.clock = Date.now;
  }

  /** "logAnalytics.query" for POST /v1/workspaces/{id}/query; null outside /v1/workspaces. */
  routeOf(method: string, lowerPath: string): string | null {
    if (!lowerPath.startsWith("/v1/workspaces/")) return null;
    return method === "POST" && /^\/v1\/workspaces\/[^/]+\/query$/.test(lowerPath) ? "logAnalytics.query" : UNKNOWN_ROUTE;
  }

  /** Runs the query of the request's body over the workspace's logs. */
  handle({ req, path, body }: ServiceRequest): ServiceResponse {
    this.context.authenticate(req, AUDIENCES, refuse);
    const workspace = decodeURIComponent(path.split("/")[3] ?? "");
    if (workspace.toLowerCase() !== LOCAL_WORKSPACE_ID) throw new HttpError(404, { error: { message: `Workspace could not be found`, code: "WorkspaceNotFoundError", correlationId: randomUUID() } });
    const request = (body ?? {}) as { query?: unknown; timespan?: unknown };
    if (typeof request.query !== "string" || request.query.trim() === "") throw badArgument("QueryValidationError", "The query is missing or empty.");
    const now = this.clock();
    const window = request.timespan === undefined || request.timespan === null ? null : parseInterval(String(request.timespan), now);
    if (window === "invalid") throw badArgument("InvalidTimespan", `The timespan '${String(request.timespan)}' is not a valid ISO 8601 duration or interval.`);
    const state = this.context.state();
    let result: Table;
    try {
      result = evaluateQuery(request.query, { nowMs: now, table: (name) => this.#table(state, name, window) });
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      const position = error.position === undefined ? {} : lineAndPos(request.query, error.position);
      throw badArgument(error.kind, error.message, position);
    }
    return { status: 200, body: this.#answer(result) };
  }

  #table(state: TenantState, name: string, window: { start: number; end: number } | null): Table | undefined {
    let cache = this.#tables.get(state);
    if (!cache) this.#tables.set(state, (cache = new Map()));
    let table = cache.get(name);
    if (!table) {
      const rows = state.logs[name];
      const schema = SCHEMAS[name];
      if (!rows && !schema) return undefined;
      table = tableFromRows(rows ?? [], schema ?? [TIME]);
      cache.set(name, table);
    }
    if (!window) return table;
    // The request's timespan bounds every table by TimeGenerated, before the query runs.
    const at = table.columns.findIndex((c) => c.name === "TimeGenerated");
    if (at < 0) return table;
    return { columns: table.columns, rows: table.rows.filter((row) => { const t = row[at]; return t instanceof KDateTime && t.ms >= window.start && t.ms < window.end; }) };
  }

  #answer(result: Table): unknown {
    const columns = result.columns.map((c) => ({ name: c.name, type: c.type }));
    const rows: unknown[][] = [];
    let bytes = 0;
    let truncated: string | null = null;
    for (const row of result.rows) {
      if (rows.length >= this.limits.maxRows) {
        truncated = `Query result set has exceeded the internal record count limit ${this.limits.maxRows} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)`;
        break;
      }
      const wire = row.map(toWire);
      bytes += JSON.stringify(wire).length + 1;
      if (bytes > this.limits.maxBytes) {
        truncated = `Query result set has exceeded the internal data size limit ${this.limits.maxBytes} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)`;
        break;
      }
      rows.push(wire);
    }
    const failure = truncated ?? this.#partialFailures.shift() ?? null;
    const tables = [{ name: "PrimaryResult", columns, rows }];
    if (failure === null) return { tables };
    return { tables, error: { code: "PartialError", message: "There were some errors when processing your query.", details: [{ code: "EngineError", message: "Something went wrong processing your query on the server.", innererror: { code: "-2133196797", message: failure, severity: 2, severityName: "Error" } }] } };
  }
}

/** Line (1-based) and column of an offset in the query, as the service reports a syntax error's place. */
function lineAndPos(query: string, offset: number): { line: number; pos: number } {
  const before = query.slice(0, offset).split("\n");
  return { line: before.length, pos: (before.at(-1) ?? "").length };
}

const DURATION = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

function durationMs(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim().toUpperCase() === "P" || /T$/i.test(text.trim())) return null;
  const [, w, d, h, min, s] = m.map((v) => Number(v ?? 0));
  return (((w ?? 0) * 7 + (d ?? 0)) * 86_400 + (h ?? 0) * 3_600 + (min ?? 0) * 60 + (s ?? 0)) * 1000;
}

/** An ISO 8601 duration (ending now) or interval (start/end, start/duration, duration/end). */
export function parseInterval(text: string, now: number): { start: number; end: number } | "invalid" {
  const parts = text.split("/");
  if (parts.length === 1) {
    const d = durationMs(parts[0]!);
    return d === null ? "invalid" : { start: now - d, end: now };
  }
  if (parts.length !== 2) return "invalid";
  const [a, b] = parts as [string, string];
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb)) return ta <= tb ? { start: ta, end: tb } : "invalid";
  if (!Number.isNaN(ta)) {
    const d = durationMs(b);
    return d === null ? "invalid" : { start: ta, end: ta + d };
  }
  const d = durationMs(a);
  return d === null || Number.isNaN(tb) ? "invalid" : { start: tb - d, end: tb };
}
