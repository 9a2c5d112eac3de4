import type { TenantSnapshot } from "../model/snapshot.js";
import type { ActivityLogs, GrantRecord, LogAnswer, OperationUse, SignInRecord } from "./activity.js";

// The sweep's log questions answered from a tenant snapshot's `logs` section, computing in
// TypeScript what the KQL queries compute in Log Analytics: the same tables, columns, filters and
// summaries. Like Log Analytics, a table the workspace does not have is an error, not "no rows":
// a snapshot without a table cannot say that nobody signed in.

const DAY_MS = 86_400_000;

/** The four tables a successful sign-in can be logged in, and the column naming the principal in each. */
export const SIGN_IN_TABLES = [
  { table: "SigninLogs", principalColumn: "UserId" },
  { table: "AADNonInteractiveUserSignInLogs", principalColumn: "UserId" },
  { table: "AADServicePrincipalSignInLogs", principalColumn: "ServicePrincipalId" },
  { table: "AADManagedIdentitySignInLogs", principalColumn: "ServicePrincipalId" },
] as const;

const ROLE_ASSIGNMENT_WRITE = "microsoft.authorization/roleassignments/write";

type Row = Readonly<Record<string, unknown>>;

const text = (row: Row, column: string): string | null => {
  const value = row[column];
  return typeof value === "string" && value !== "" ? value : null;
};

/** ActivityLogs over a tenant snapshot, as of `now` (the end of every window). */
export class SnapshotActivityLogs implements ActivityLogs {
  readonly #logs: Readonly<Record<string, readonly Row[]>>;
  readonly #now: number;

  constructor(snapshot: Pick<TenantSnapshot, "logs">, now: Date) {
    this.#logs = snapshot.logs;
    this.#now = now.getTime();
  }

  // Rows of a table with TimeGenerated inside (now - lookbackDays, now]; undefined when the table is absent.
  #rows(table: string, lookbackDays: number): { row: Row; time: number }[] | undefined {
    const rows = Object.hasOwn(this.#logs, table) ? this.#logs[table] : undefined;
    if (!rows) return undefined;
    const from = this.#now - lookbackDays * DAY_MS;
    return rows.flatMap((row) => {
      const time = Date.parse(String(row.TimeGenerated));
      // An unparsable TimeGenerated is a null datetime in KQL: outside every window.
      return Number.isNaN(time) || time <= from || time > this.#now ? [] : [{ row, time }];
    });
  }

  async lastSignIns(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly SignInRecord[]>> {
    const latest = new Map<string, { time: number; source: string; principalId: string }>();
    const missing: string[] = [];
    for (const { table, principalColumn } of SIGN_IN_TABLES) {
      const rows = this.#rows(table, options.lookbackDays);
      if (!rows) {
        missing.push(table);
        continue;
      }
      for (const { row, time } of rows) {
        // ResultType is a string column; "0" alone means success.
        const principalId = text(row, principalColumn);
        if (row.ResultType !== "0" || principalId === null) continue;
        const key = principalId.toLowerCase();
        const seen = latest.get(key);
        if (!seen || time > seen.time) latest.set(key, { time, source: table, principalId });
      }
    }
    if (missing.length === SIGN_IN_TABLES.length) return { status: "unavailable", reason: "the tenant snapshot has no sign-in logs (SigninLogs, AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs)" };
    const value = [...latest.values()].map((s) => ({ principalId: s.principalId, lastSignIn: new Date(s.time).toISOString(), source: s.source }));
    return missing.length ? { status: "partial", value, error: `the tenant snapshot lacks ${missing.join(", ")}` } : { status: "complete", value };
  }

  async operations(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly OperationUse[]>> {
    const rows = this.#rows("AzureActivity", options.lookbackDays);
    if (!rows) return { status: "unavailable", reason: "the tenant snapshot has no AzureActivity log" };
    const uses = new Map<string, { caller: string; operation: string; count: number; last: number }>();
    for (const { row, time } of rows) {
      const caller = text(row, "Caller");
      const operation = text(row, "OperationNameValue")?.toLowerCase();
      if (row.ActivityStatusValue !== "Success" || row.CategoryValue !== "Administrative" || caller === null || !operation) continue;
      const key = `${caller}\u0000${operation}`;
      const use = uses.get(key) ?? { caller, operation, count: 0, last: 0 };
      use.count += 1;
      use.last = Math.max(use.last, time);
      uses.set(key, use);
    }
    return { status: "complete", value: [...uses.values()].map((u) => ({ caller: u.caller, operation: u.operation, count: u.count, lastUsed: new Date(u.last).toISOString() })) };
  }

  async grants(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly GrantRecord[]>> {
    const rows = this.#rows("AzureActivity", options.lookbackDays);
    if (!rows) return { status: "unavailable", reason: "the tenant snapshot has no AzureActivity log" };
    const value: GrantRecord[] = [];
    for (const { row, time } of rows) {
      const caller = text(row, "Caller");
      if (row.ActivityStatusValue !== "Success" || text(row, "OperationNameValue")?.toLowerCase() !== ROLE_ASSIGNMENT_WRITE || caller === null) continue;
      const resourceId = text(row, "_ResourceId")?.toLowerCase() ?? null;
      value.push({ caller, callerIpAddress: text(row, "CallerIpAddress"), time: new Date(time).toISOString(), assignmentId: resourceId?.includes("/providers/microsoft.authorization/roleassignments/") ? resourceId : null });
    }
    return { status: "complete", value };
  }
}
