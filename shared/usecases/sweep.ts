import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { buildFacts, gatherContext, UNKNOWN_SWEEP_FACTS, type Facts } from "../facts/build.js";
import type { TenantContext } from "../facts/context.js";
import type { ActivityIndex } from "../facts/sweepFacts.js";
import { findingsPartition } from "../findings/keys.js";
import { reconcileFindings, resolveFindings, type JudgementOrigin } from "../findings/lifecycle.js";
import { retryOnConflict, type FindingsStore } from "../findings/store.js";
import { deletedRoleDefinition, roleDefinitionGuid, type Principal, type RoleAssignment, type RoleDefinition } from "../model/access.js";
import type { GrantedBy } from "../model/event.js";
import type { AccessHistory } from "../findings/access.js";
import type { Finding } from "../model/finding.js";
import { evaluatePolicies, type PolicyEvaluationError } from "../policy/evaluate.js";
import type { Exemption } from "../policy/exemptions.js";
import type { Policy } from "../policy/policy.js";

// The standing sweep: every assignment of a tenant (and every subscription as a whole) judged with
// the same core as the event path (buildFacts, evaluatePolicies, reconcileFindings), against what
// is stored, writing only what changed. A shard is a set of findings partitions; a live sweep can
// feed `sweepPartition` from Resource Graph pages, one partition at a time, and retry a shard
// that dies: every write is conditional and a rerun finds the rows it already wrote unchanged.

/** Everything a sweep judges: the inventory of a tenant, its tenant-wide facts and its logs. */
export interface SweepInventory {
  readonly tenantId: string;
  readonly assignments: readonly RoleAssignment[];
  /** Role definitions by GUID (lower case). */
  readonly roles: ReadonlyMap<string, RoleDefinition>;
  /** Directory objects by id (lower case); an absent one is a deleted identity. */
  readonly principals: ReadonlyMap<string, Principal>;
  /** Every subscription of the tenant (ids), judged as a whole by subscription policies. */
  readonly subscriptionIds: readonly string[];
  readonly context: TenantContext;
  readonly activity: ActivityIndex;
}

/** What a sweep runs with. */
export interface SweepDependencies {
  readonly findings: FindingsStore;
  readonly policies: readonly Policy[];
  readonly exemptions: readonly Exemption[];
  /** The sweep's time: findings change at it, exemptions are in force (or expired) at it. */
  readonly now: Date;
  readonly runId?: string;
  /** The access history, when kept: each partition's listing records who holds what at the sweep's time. */
  readonly access?: AccessHistory;
}

/** Counts of one sweep run (or of one partition of it). */
export interface SweepCounts {
  readonly partitions: number;
  readonly assignments: number;
  readonly subscriptions: number;
  readonly principals: number;
  /** Finding rows written (new, or changed in status or content that matters). */
  readonly findingWrites: number;
  readonly opened: number;
  readonly exempted: number;
  readonly resolved: number;
  /** Findings that hold (open or exempted) after the run. */
  readonly holding: number;
}

/** One sweep run: its id, when it started and ended, and what it did. */
export interface SweepRun extends SweepCounts {
  readonly runId: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly evaluationErrors: readonly (PolicyEvaluationError & { readonly subjectId: string })[];
}

/** What a sweep reports as it goes. */
export interface SweepSink {
  /** Each finding that holds after the run (open or exempted), whether or not it was written. */
  finding?(finding: Finding, written: boolean): void;
  progress?(done: number, total: number): void;
}

// What the sweep compares: a finding whose status and judgement are unchanged is not rewritten
// just because time passed (lastSeen, the day counts in its reason): a steady tenant writes nothing.
const MATERIAL_EXCLUDED = new Set(["lastSeen", "reason", "matchedFacts", "lastEventId", "correlationId", "principalLastSignIn"]);
const material = (f: Finding) => Object.fromEntries(Object.entries(f).filter(([k]) => !MATERIAL_EXCLUDED.has(k)));

/** The subject id of a subscription policy's finding: the subscription's own scope (no assignment names it). */
export function subscriptionSubjectId(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId.toLowerCase()}`;
}

// A subscription judged as a whole looks like an assignment of nobody, of no role, at its scope:
// only subscription policies read it, and their conditions read only scope and atScope facts.
function subscriptionSubject(subscriptionId: string): RoleAssignment {
  const id = subscriptionSubjectId(subscriptionId);
  return { id, name: subscriptionId.toLowerCase(), scope: id, roleDefinitionId: "", principalId: "", principalType: "", condition: null, conditionVersion: null, description: null, createdOn: null, updatedOn: null, createdBy: null, updatedBy: null, delegatedManagedIdentityResourceId: null };
}

const SUBSCRIPTION_ROLE: RoleDefinition = { id: "", name: "", roleName: "(the subscription as a whole)", roleType: "None", description: null, permissions: [], assignableScopes: [] };

/** The findings of one partition: the assignments and subscriptions in it, judged against what it stores. */
export interface PartitionSlice {
  readonly partition: string;
  readonly assignments: readonly RoleAssignment[];
  readonly subscriptionIds: readonly string[];
}

/**
 * Judges one partition against its stored findings and returns what to write: new findings,
 * findings whose status or judgement changed, and resolutions (including findings of assignments
 * that no longer exist). Nothing is written here.
 */
export async function judgePartition(slice: PartitionSlice, stored: readonly Finding[], inventory: SweepInventory, deps: Omit<SweepDependencies, "findings"> & { readonly runId: string }): Promise<{ readonly writes: Finding[]; readonly holding: Finding[]; readonly counts: Omit<SweepCounts, "partitions" | "principals" | "findingWrites" | "holding">; readonly errors: (PolicyEvaluationError & { readonly subjectId: string })[] }> {
  const time = deps.now.toISOString();
  const bySubject = new Map<string, Finding[]>();
  for (const f of stored) {
    const key = f.assignmentId.toLowerCase();
    bySubject.set(key, [...(bySubject.get(key) ?? []), f]);
  }
  const writes: Finding[] = [];
  const holding: Finding[] = [];
  const errors: (PolicyEvaluationError & { readonly subjectId: string })[] = [];
  let opened = 0;
  let exempted = 0;
  let resolved = 0;
  const judged = new Set<string>();

  const settle = (previous: readonly Finding[], matched: readonly Finding[], gone: readonly Finding[]) => {
    const before = new Map(previous.map((f) => [f.id, f]));
    for (const f of matched) {
      const was = before.get(f.id);
      if (was && isDeepStrictEqual(material(was), material(f))) {
        holding.push(was);
        continue;
      }
      writes.push(f);
      holding.push(f);
      if (f.status === "open" && was?.status !== "open") opened += 1;
      if (f.status === "exempted" && was?.status !== "exempted") exempted += 1;
    }
    writes.push(...gone);
    resolved += gone.length;
  };

  const judge = (assignment: RoleAssignment, facts: Facts, grantedBy: GrantedBy | null, subject: "assignment" | "subscription") => {
    const key = assignment.id.toLowerCase();
    judged.add(key);
    const evaluation = evaluatePolicies(deps.policies, facts, subject);
    errors.push(...evaluation.errors.map((e) => ({ ...e, subjectId: assignment.id })));
    const previous = bySubject.get(key) ?? [];
    const origin: JudgementOrigin = { eventId: `sweep:${deps.runId}`, time, correlationId: null, grantedBy };
    const { matched, resolved: gone } = reconcileFindings(previous, evaluation.matches, { assignment, facts, origin, exemptions: deps.exemptions, now: deps.now });
    settle(previous, matched, gone);
  };

  for (const assignment of slice.assignments) {
    const role = inventory.roles.get(roleDefinitionGuid(assignment.roleDefinitionId)) ?? deletedRoleDefinition(assignment.roleDefinitionId);
    const principal = inventory.principals.get(assignment.principalId.toLowerCase()) ?? null;
    const sweep = inventory.activity.factsFor(assignment, role, principal);
    const creator = granterOf(assignment, inventory.principals);
    // The activity log's record of the grant says where it came from.
    const grantedBy = creator && { ...creator, ipAddress: sweep.grantedBy.ipAddress };
    const context = await gatherContext(inventory.context, assignment, role, principal);
    const facts = buildFacts({ assignment, role, principal, grantedBy, tenantId: inventory.tenantId, context, sweep });
    judge(assignment, facts, grantedBy, "assignment");
  }
  for (const subscriptionId of slice.subscriptionIds) {
    const subject = subscriptionSubject(subscriptionId);
    const role = SUBSCRIPTION_ROLE;
    const context = await gatherContext(inventory.context, subject, role, null);
    const facts = buildFacts({ assignment: subject, role, principal: null, grantedBy: null, tenantId: inventory.tenantId, context, sweep: UNKNOWN_SWEEP_FACTS });
    judge(subject, facts, null, "subscription");
  }
  // Stored findings of subjects that are no longer there: the assignment (or subscription) is gone.
  const origin: JudgementOrigin = { eventId: `sweep:${deps.runId}`, time, correlationId: null, grantedBy: null };
  for (const [key, findings] of bySubject) {
    if (judged.has(key)) continue;
    const gone = resolveFindings(findings, origin, key.includes("/providers/microsoft.authorization/roleassignments/") ? "the role assignment no longer exists" : "the subscription is no longer in the tenant's inventory");
    writes.push(...gone);
    resolved += gone.length;
  }
  return { writes, holding, errors, counts: { assignments: slice.assignments.length, subscriptions: slice.subscriptionIds.length, opened, exempted, resolved } };
}

// Who made a grant, as far as the inventory knows: ARM's createdBy, named from the directory.
function granterOf(a: RoleAssignment, principals: ReadonlyMap<string, Principal>): GrantedBy | null {
  if (!a.createdBy) return null;
  const p = principals.get(a.createdBy.toLowerCase());
  const upn = p?.["@odata.type"] === "#microsoft.graph.user" ? p.userPrincipalName : null;
  return { objectId: a.createdBy, upn, name: p?.displayName ?? null, appId: null, ipAddress: null, identityType: p ? (upn ? "user" : "app") : null };
}

/** The partitions of an inventory, each with its assignments and subscriptions, plus `extra` partitions (ones that hold findings). */
export function partitionInventory(inventory: Pick<SweepInventory, "assignments" | "subscriptionIds">, extra: Iterable<string> = []): PartitionSlice[] {
  const slices = new Map<string, { assignments: RoleAssignment[]; subscriptionIds: string[] }>();
  const slice = (p: string) => slices.get(p) ?? slices.set(p, { assignments: [], subscriptionIds: [] }).get(p)!;
  for (const a of inventory.assignments) slice(findingsPartition(a.scope)).assignments.push(a);
  for (const s of inventory.subscriptionIds) slice(findingsPartition(subscriptionSubjectId(s))).subscriptionIds.push(s);
  for (const p of extra) slice(p);
  return [...slices.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([partition, s]) => ({ partition, ...s }));
}

/** Judges one partition against the store and writes what changed, re-reading and re-judging when a concurrent writer got there first. */
export async function sweepPartition(slice: PartitionSlice, inventory: SweepInventory, deps: SweepDependencies & { readonly runId: string }, sink: SweepSink = {}) {
  return retryOnConflict(`the findings of partition ${slice.partition}`, async () => {
    const record = await deps.findings.readPartition(slice.partition);
    const judged = await judgePartition(slice, record.findings, inventory, deps);
    if (!(await deps.findings.commitPartition(record, judged.writes))) return undefined;
    await recordSweptAccess(slice, inventory, deps);
    const written = new Set(judged.writes.map((f) => f.id));
    for (const f of judged.holding) sink.finding?.(f, written.has(f.id));
    return judged;
  });
}

/** The access history's part of a partition's sweep: every assignment listed is held at the sweep's time; an interval it no longer lists has ended. */
export async function recordSweptAccess(slice: PartitionSlice, inventory: SweepInventory, deps: Pick<SweepDependencies, "access" | "now">): Promise<void> {
  if (!deps.access) return;
  const present = slice.assignments.map((assignment) => ({ assignment, roleName: inventory.roles.get(roleDefinitionGuid(assignment.roleDefinitionId))?.roleName ?? null, grantedBy: assignment.createdBy }));
  await deps.access.recordSweep(slice.partition, present, deps.now.toISOString());
}

/**
 * Sweeps a whole tenant: every partition of the inventory, and every partition where findings are
 * stored that may no longer hold. `storedPartitions` lists those (the live driver reads them from
 * the store; a snapshot run passes what its store holds).
 */
export async function sweepTenant(inventory: SweepInventory, deps: SweepDependencies, options: { readonly storedPartitions?: Iterable<string> } = {}, sink: SweepSink = {}): Promise<SweepRun> {
  const runId = deps.runId ?? randomUUID();
  const startedAt = new Date().toISOString();
  const slices = partitionInventory(inventory, options.storedPartitions);
  let total = NO_TALLY;
  const evaluationErrors: SweepRun["evaluationErrors"][number][] = [];
  let done = 0;
  const units = inventory.assignments.length + inventory.subscriptionIds.length;
  for (const slice of slices) {
    const judged = await sweepPartition(slice, inventory, { ...deps, runId }, sink);
    total = addCounts(total, tallyOf(judged));
    evaluationErrors.push(...judged.errors);
    done += slice.assignments.length + slice.subscriptionIds.length;
    sink.progress?.(done, units);
  }
  const principals = new Set(inventory.assignments.map((a) => a.principalId.toLowerCase())).size;
  const { evaluationErrors: _count, ...counts } = total;
  return { runId, startedAt, endedAt: new Date().toISOString(), partitions: slices.length, principals, ...counts, evaluationErrors };
}

/** What one partition's sweep adds to a run's counts. */
export type PartitionTally = Omit<SweepCounts, "partitions" | "principals"> & { readonly evaluationErrors: number };

export const NO_TALLY: PartitionTally = { assignments: 0, subscriptions: 0, findingWrites: 0, opened: 0, exempted: 0, resolved: 0, holding: 0, evaluationErrors: 0 };

/** The counts of one partition's sweep. */
export function tallyOf(judged: Awaited<ReturnType<typeof judgePartition>>): PartitionTally {
  const { assignments, subscriptions, opened, exempted, resolved } = judged.counts;
  return { assignments, subscriptions, findingWrites: judged.writes.length, opened, exempted, resolved, holding: judged.holding.length, evaluationErrors: judged.errors.length };
}

/** Adds two sets of counts, key by key (the keys of `a`). */
export function addCounts<T extends { readonly [K in keyof T]: number }>(a: T, b: { readonly [K in keyof T]: number }): T {
  return Object.fromEntries(Object.keys(a).map((k) => [k, a[k as keyof T] + b[k as keyof T]])) as T;
}
