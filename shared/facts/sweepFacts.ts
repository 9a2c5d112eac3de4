import type { Permission } from "../model/azure.js";
import type { Principal, RoleAssignment, RoleDefinition } from "../model/access.js";
import type { ActivityLogs, GrantRecord, LogAnswer, OperationUse, SignInRecord } from "./activity.js";
import { isForeignGroup, privilegeOf, UNKNOWN_SWEEP_FACTS, type SweepFacts } from "./build.js";
import { allowsOperation } from "./privilege.js";

// The facts only a tenant sweep knows, from three log answers asked once per sweep (whatever the
// number of principals) and the sweep's clock. An answer that is not complete is never used as if
// it were: the facts it feeds stay null or empty, and activity.known says so.

const DAY_MS = 86_400_000;

/** Sentinel's "granting permissions to account" baseline: the 14 days before a grant. */
export const GRANT_BASELINE_DAYS = 14;

/** The default window of the sign-in and activity facts (Defender's and Access Analyzer's 90 days). */
export const DEFAULT_LOOKBACK_DAYS = 90;

/** The three log answers a sweep judges with, and the windows they cover. */
export interface ActivityEvidence {
  readonly lookbackDays: number;
  readonly signIns: LogAnswer<readonly SignInRecord[]>;
  readonly operations: LogAnswer<readonly OperationUse[]>;
  /** Covers lookbackDays plus the baseline, so a grant at the start of the window still has one. */
  readonly grants: LogAnswer<readonly GrantRecord[]>;
  readonly grantsLookbackDays: number;
}

/** Asks the logs the sweep's three questions at once. */
export async function gatherActivity(logs: ActivityLogs, options: { readonly lookbackDays: number }): Promise<ActivityEvidence> {
  const grantsLookbackDays = options.lookbackDays + GRANT_BASELINE_DAYS;
  const [signIns, operations, grants] = await Promise.all([logs.lastSignIns(options), logs.operations(options), logs.grants({ lookbackDays: grantsLookbackDays })]);
  return { lookbackDays: options.lookbackDays, signIns, operations, grants, grantsLookbackDays };
}

/** A line per log answer that was not complete: what the sweep could not judge, and why. */
export function evidenceGaps(evidence: ActivityEvidence): string[] {
  const gap = (name: string, answer: LogAnswer<unknown>) => (answer.status === "complete" ? [] : [`${name}: ${answer.status === "partial" ? `partial (${answer.error})` : `unavailable (${answer.reason})`}`]);
  return [...gap("sign-in logs", evidence.signIns), ...gap("activity log (operations)", evidence.operations), ...gap("activity log (grants)", evidence.grants)];
}

const wholeDays = (from: number, to: number) => BigInt(Math.max(0, Math.floor((to - from) / DAY_MS)));

// How much an action pattern covers: the fewer literal segments before its first wildcard, the
// more operations it allows (`*` > `Provider/*` > `Provider/type/*` > one operation).
function breadth(pattern: string): number {
  const star = pattern.indexOf("*");
  if (star < 0) return 1;
  const literalSegments = pattern.slice(0, star).split("/").filter((s) => s !== "").length;
  return 10 ** Math.max(0, 6 - 2 * literalSegments);
}

/** How broad a role's actions are: the sum of each action pattern's breadth (see `breadth`). */
export function actionBreadth(permissions: readonly Permission[]): number {
  return permissions.reduce((sum, block) => sum + block.actions.reduce((s, a) => s + breadth(a), 0), 0);
}

/** The sweep facts of every assignment, from the log answers indexed once. */
export class ActivityIndex {
  readonly #now: number;
  readonly #evidence: ActivityEvidence;
  readonly #signIns = new Map<string, SignInRecord>();
  readonly #operations = new Map<string, OperationUse[]>();
  readonly #grantsByAssignment = new Map<string, GrantRecord>();
  // The times of each caller's grants from each address, ascending: a baseline is one binary search, not a scan of every grant.
  readonly #grantTimes = new Map<string, number[]>();
  readonly #builtIns: readonly { readonly role: RoleDefinition; readonly breadth: number }[];

  constructor(evidence: ActivityEvidence, roles: Iterable<RoleDefinition>, now: Date) {
    this.#now = now.getTime();
    this.#evidence = evidence;
    if (evidence.signIns.status === "complete") for (const s of evidence.signIns.value) this.#signIns.set(s.principalId.toLowerCase(), s);
    if (evidence.operations.status === "complete") {
      for (const use of evidence.operations.value) {
        const key = use.caller.toLowerCase();
        const uses = this.#operations.get(key);
        if (uses) uses.push(use);
        else this.#operations.set(key, [use]);
      }
    }
    if (evidence.grants.status === "complete") {
      for (const g of evidence.grants.value) {
        // The latest write of an assignment is the one that made it as it stands.
        const seen = g.assignmentId && this.#grantsByAssignment.get(g.assignmentId);
        if (g.assignmentId && (!seen || seen.time < g.time)) this.#grantsByAssignment.set(g.assignmentId, g);
        const t = Date.parse(g.time);
        if (Number.isNaN(t)) continue;
        const key = grantCallerKey(g.caller, g.callerIpAddress);
        const times = this.#grantTimes.get(key);
        if (times) times.push(t);
        else this.#grantTimes.set(key, [t]);
      }
      for (const times of this.#grantTimes.values()) times.sort((a, b) => a - b);
    }
    this.#builtIns = [...roles]
      .filter((r) => r.roleType === "BuiltInRole" && r.permissions.every((p) => p.dataActions.length === 0))
      .map((role) => ({ role, breadth: actionBreadth(role.permissions) }))
      .sort((a, b) => a.breadth - b.breadth || a.role.roleName.localeCompare(b.role.roleName));
  }

  /** The sweep facts of one assignment, its role and its principal (null: deleted). */
  factsFor(assignment: RoleAssignment, role: RoleDefinition, principal: Principal | null): SweepFacts {
    const created = assignment.createdOn === null ? Number.NaN : Date.parse(assignment.createdOn);
    const principalCreated = principal && "createdDateTime" in principal && typeof principal.createdDateTime === "string" ? Date.parse(principal.createdDateTime) : Number.NaN;
    // Only identities that sign in and act under their own name: users and service principals of this directory.
    const acts = principal !== null && !isForeignGroup(assignment.principalType) && principal["@odata.type"] !== "#microsoft.graph.group";
    return {
      assignment: { ageDays: Number.isNaN(created) ? null : wholeDays(created, this.#now) },
      principal: { ...this.#signIn(acts ? principal : null), createdDaysAgo: Number.isNaN(principalCreated) ? null : wholeDays(principalCreated, this.#now) },
      grantedBy: this.#granter(assignment),
      activity: acts ? this.#activity(role, principal) : UNKNOWN_SWEEP_FACTS.activity,
    };
  }

  #signIn(principal: Principal | null): Pick<SweepFacts["principal"], "lastSignIn" | "daysSinceSignIn"> {
    if (principal === null || this.#evidence.signIns.status !== "complete") return { lastSignIn: null, daysSinceSignIn: null };
    const record = this.#signIns.get(principal.id.toLowerCase());
    // None in a complete window: at least the window's length.
    if (!record) return { lastSignIn: null, daysSinceSignIn: BigInt(this.#evidence.lookbackDays) };
    return { lastSignIn: record.lastSignIn, daysSinceSignIn: wholeDays(Date.parse(record.lastSignIn), this.#now) };
  }

  #activity(role: RoleDefinition, principal: Principal): SweepFacts["activity"] {
    if (this.#evidence.operations.status !== "complete") return UNKNOWN_SWEEP_FACTS.activity;
    // AzureActivity's Caller is a UPN or object id for users and an object id (sometimes the app id) for applications.
    const names = new Set([principal.id, principal["@odata.type"] === "#microsoft.graph.user" ? principal.userPrincipalName : null, principal["@odata.type"] === "#microsoft.graph.servicePrincipal" ? principal.appId : null].filter((n): n is string => n !== null).map((n) => n.toLowerCase()));
    const uses = [...names].flatMap((n) => this.#operations.get(n) ?? []);
    const operations = [...new Set(uses.map((u) => u.operation.toLowerCase()))].sort();
    const lastUsed = uses.reduce<string | null>((last, u) => (last === null || u.lastUsed > last ? u.lastUsed : last), null);
    const privileged = privilegeOf(role).privilegedActions;
    const unusedPrivilegedActions = privileged.filter((p) => !operations.some((op) => allowsOperation([{ actions: [p], notActions: [], dataActions: [], notDataActions: [] }], op)));
    const dataRole = role.permissions.some((p) => p.dataActions.length > 0);
    const narrowest = dataRole || operations.length === 0 ? undefined : this.#builtIns.find((c) => operations.every((op) => allowsOperation(c.role.permissions, op)));
    return { known: true, lookbackDays: BigInt(this.#evidence.lookbackDays), operations, lastUsed, unusedPrivilegedActions, narrowestBuiltInRole: narrowest?.role.roleName ?? null };
  }

  #granter(assignment: RoleAssignment): SweepFacts["grantedBy"] {
    const grants = this.#evidence.grants;
    if (grants.status !== "complete") return { seenInBaseline: null, ipAddress: null };
    const record = this.#grantsByAssignment.get(assignment.id.toLowerCase());
    if (!record) return { seenInBaseline: null, ipAddress: null };
    const at = Date.parse(record.time);
    const from = at - GRANT_BASELINE_DAYS * DAY_MS;
    // A baseline that starts before the logs' window is not known in full.
    if (from < this.#now - this.#evidence.grantsLookbackDays * DAY_MS) return { seenInBaseline: null, ipAddress: record.callerIpAddress };
    // Any grant by the same caller from the same address in [from, at).
    const times = this.#grantTimes.get(grantCallerKey(record.caller, record.callerIpAddress)) ?? [];
    let low = 0;
    let high = times.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (times[mid]! < from) low = mid + 1;
      else high = mid;
    }
    const seen = low < times.length && times[low]! < at;
    return { seenInBaseline: seen, ipAddress: record.callerIpAddress };
  }
}

// A caller (case-insensitive) and the exact address it granted from.
function grantCallerKey(caller: string, ipAddress: string | null): string {
  return JSON.stringify([caller.toLowerCase(), ipAddress]);
}
