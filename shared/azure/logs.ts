import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LogsQueryClient, LogsQueryResultStatus, type LogsTable } from "@azure/monitor-query-logs";
import type { TokenCredential } from "@azure/identity";
import { packageRoot } from "../config.js";
import { GrantGuardError, statusOf } from "../errors.js";
import type { ActivityLogs, GrantRecord, LogAnswer, OperationUse, SignInRecord } from "../facts/activity.js";

/** The product's queries, kept as .kql files beside this adapter. */
export const KQL_DIR = join(packageRoot(), "shared", "azure", "kql");

/** A query Log Analytics refused as malformed (HTTP 400): a defect in a .kql file, not a passing fault. */
export class LogQueryError extends GrantGuardError {}

/** The longest lookback a query takes: Log Analytics keeps interactive data up to two years. */
const MAX_LOOKBACK_DAYS = 730;

/** A query file's text with its parameters bound by `let` statements rendered from typed values (nothing is concatenated unchecked). */
export function bindLookback(query: string, lookbackDays: number): string {
  if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > MAX_LOOKBACK_DAYS) throw new RangeError(`lookbackDays must be a whole number of days from 1 to ${MAX_LOOKBACK_DAYS}, got ${lookbackDays}`);
  return `let lookback = ${lookbackDays}d;\n${query}`;
}

/** Builds the Log Analytics query client for an endpoint (`https://api.loganalytics.io/v1`, or the local simulator's `/v1`). */
export function createLogsClient(credential: TokenCredential, endpoint: string): LogsQueryClient {
  return new LogsQueryClient(credential, { endpoint });
}

type Row = (name: string) => unknown;

/** `ActivityLogs` over a Log Analytics workspace through `@azure/monitor-query-logs`, one query per question. */
export class LogAnalyticsActivityLogs implements ActivityLogs {
  readonly #queries: Readonly<Record<"lastSignIns" | "operations" | "grants", string>>;

  constructor(
    private readonly client: LogsQueryClient,
    private readonly workspaceId: string,
    queryDir = KQL_DIR,
  ) {
    const read = (name: string) => readFileSync(join(queryDir, `${name}.kql`), "utf8");
    this.#queries = { lastSignIns: read("lastSignIns"), operations: read("operations"), grants: read("grants") };
  }

  lastSignIns(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly SignInRecord[]>> {
    return this.#run(this.#queries.lastSignIns, options.lookbackDays, (row) => ({ principalId: text(row("PrincipalId")), lastSignIn: iso(row("LastSignIn")), source: text(row("SourceTable")) }));
  }

  operations(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly OperationUse[]>> {
    return this.#run(this.#queries.operations, options.lookbackDays, (row) => ({ caller: text(row("Caller")), operation: text(row("Operation")), count: Number(row("OperationCount")), lastUsed: iso(row("LastUsed")) }));
  }

  grants(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly GrantRecord[]>> {
    return this.#run(this.#queries.grants, options.lookbackDays, (row) => ({ caller: text(row("Caller")), callerIpAddress: text(row("CallerIpAddress")) || null, time: iso(row("TimeGenerated")), assignmentId: text(row("AssignmentId")) || null }));
  }

  async #run<T>(query: string, lookbackDays: number, convert: (row: Row) => T): Promise<LogAnswer<readonly T[]>> {
    const kql = bindLookback(query, lookbackDays);
    let result;
    try {
      // The timespan bounds the tables too, so the service scans no more than the window.
      result = await this.client.queryWorkspace(this.workspaceId, kql, { duration: `P${lookbackDays}D` });
    } catch (error) {
      const status = statusOf(error);
      if (status === 401 || status === 403 || status === 404) {
        return { status: "unavailable", reason: `Log Analytics workspace ${this.workspaceId} cannot be read (HTTP ${status}): ${error instanceof Error ? error.message : String(error)}` };
      }
      if (status === 400) throw new LogQueryError(`Log Analytics refused the query: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      throw error;
    }
    if (result.status === LogsQueryResultStatus.PartialFailure) {
      // Never used as if complete: the caller sees what arrived and why the rest did not.
      return { status: "partial", value: rowsOf(result.partialTables[0], convert), error: `${result.partialError.code}: ${result.partialError.message}` };
    }
    if (result.status === LogsQueryResultStatus.Success) return { status: "complete", value: rowsOf(result.tables[0], convert) };
    return { status: "unavailable", reason: "Log Analytics answered with no result" };
  }
}

function rowsOf<T>(table: LogsTable | undefined, convert: (row: Row) => T): T[] {
  if (!table) return [];
  const index = new Map(table.columnDescriptors.map((c, i) => [c.name ?? "", i]));
  return table.rows.map((values) => convert((name) => {
    const at = index.get(name);
    if (at === undefined) throw new LogQueryError(`the answer has no column ${name} (columns: ${[...index.keys()].join(", ")})`);
    return values[at];
  }));
}

function text(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return text(value);
}
