import { randomBytes } from "node:crypto";
import { z } from "zod";
import { GrantGuardError } from "../errors.js";
import type { ActivityLogs } from "../facts/activity.js";
import type { PimInstanceRecord, PimRequestRecord } from "../facts/pim.js";
import { ActivityIndex, evidenceGaps, gatherActivity, type ActivityEvidence } from "../facts/sweepFacts.js";
import { findingsPartition } from "../findings/keys.js";
import type { FindingsStore, PartitionRecord } from "../findings/store.js";
import type { Principal, RoleAssignment, RoleDefinition } from "../model/access.js";
import type { Exemption } from "../policy/exemptions.js";
import type { Policy } from "../policy/policy.js";
import { addCounts, subscriptionSubjectId, sweepPartition, tallyOf, type SweepCounts, type SweepInventory, type SweepSink } from "./sweep.js";
import { hierarchyOf, SliceContext, type PartitionPim, type TenantTree } from "./sweepSlice.js";

// The live standing sweep, fanned out: a timer plans a run (one Resource Graph count per
// partition, the subscriptions and management groups, the role definitions, the partitions the
// store holds, and the logs' three answers, asked once), stages what every shard needs in a blob,
// records the run, and puts one message per shard on a queue. Each shard reads only its own
// partitions' assignments, principals and PIM, judges and commits each partition conditionally
// (sweepPartition), and records its result in the run exactly once; the shard that records last
// closes the run. A shard that dies is retried by the queue and finds its committed partitions
// unchanged; one that keeps failing reaches the poison queue, whose handler marks it failed.

/** Calls a run sent to each Azure service, counted by the clients themselves (retries included). */
export interface CallCounts {
  readonly resourceGraph: number;
  readonly arm: number;
  readonly graph: number;
  readonly logAnalytics: number;
}

export const NO_CALLS: CallCounts = { resourceGraph: 0, arm: 0, graph: 0, logAnalytics: 0 };

/** Adds call counts. */
export function addCalls(a: CallCounts, b: CallCounts): CallCounts {
  return { resourceGraph: a.resourceGraph + b.resourceGraph, arm: a.arm + b.arm, graph: a.graph + b.graph, logAnalytics: a.logAnalytics + b.logAnalytics };
}

/** What a sweep reads from Azure, through clients made for one invocation (so their calls can be counted). */
export interface SweepReader {
  /** The calls sent so far through this reader's clients. */
  calls(): CallCounts;
  /** Role assignments per findings partition (Resource Graph, one summarised query); root-scope ones are not counted here. */
  partitionCounts(): Promise<ReadonlyMap<string, number>>;
  /** The tenant's subscriptions and management groups, with their parents (Resource Graph `resourcecontainers`). */
  tree(): Promise<TenantTree>;
  roleDefinitions(): Promise<readonly RoleDefinition[]>;
  /** Assignments at and below these subscriptions, in pages. */
  subscriptionAssignments(subscriptionIds: readonly string[]): AsyncIterable<readonly RoleAssignment[]>;
  /** Assignments at management groups and at the root, in pages. */
  tenantScopeAssignments(): AsyncIterable<readonly RoleAssignment[]>;
  /** PIM's instances and requests at and below a subscription, or exactly at a management group or "/" ; null where refused. */
  pim(scope: string, exact: boolean): Promise<{ readonly instances: PimInstanceRecord[] | null; readonly requests: PimRequestRecord[] | null }>;
  /** Directory objects by id, in bulk; an id the directory does not know is absent. */
  principals(ids: readonly string[]): Promise<readonly Principal[]>;
  /** The workspace's sign-ins and activity; null when no workspace is configured. */
  readonly activityLogs: ActivityLogs | null;
}

/** What every shard of a run reads: staged once by the plan. */
export interface SweepPlan {
  readonly runId: string;
  /** The run's time: every shard judges as of it. */
  readonly now: string;
  readonly tenantId: string;
  readonly roles: readonly RoleDefinition[];
  readonly tree: TenantTree;
  readonly evidence: ActivityEvidence;
}

/** Where a run's plan waits for its shards (a blob). */
export interface SweepStaging {
  put(plan: SweepPlan): Promise<void>;
  get(runId: string): Promise<SweepPlan>;
}

/** One shard: the partitions it owns, and which of its subscriptions exist (judged as a whole). */
export const shardMessageSchema = z.strictObject({
  runId: z.string().regex(/^[A-Za-z0-9-]{1,80}$/),
  shard: z.number().int().min(0),
  shards: z.number().int().min(1),
  partitions: z.array(z.string().min(1).max(200)),
  subscriptions: z.array(z.string().min(1).max(100)),
  /** Partitions Resource Graph counted assignments in: the only ones worth asking it about (a subscription that is gone has none, and may be refused). */
  listed: z.array(z.string().min(1).max(200)),
  tenantScope: z.boolean(),
});
export type ShardMessage = z.infer<typeof shardMessageSchema>;

/** The queue shards wait on. */
export interface ShardQueue {
  send(messages: readonly ShardMessage[]): Promise<void>;
}

/** What one shard did: a sweep's counts (exemptions not counted apart), with its evaluation errors counted. */
export type ShardCounts = Omit<SweepCounts, "exempted"> & { readonly evaluationErrors: number };

export const NO_COUNTS: ShardCounts = { partitions: 0, assignments: 0, subscriptions: 0, principals: 0, findingWrites: 0, opened: 0, resolved: 0, holding: 0, evaluationErrors: 0 };

/** A shard's result as its run records it, once. */
export interface ShardResult {
  readonly shard: number;
  readonly status: "succeeded" | "failed";
  readonly counts: ShardCounts;
  readonly calls: CallCounts;
  readonly finishedAt: string;
  readonly error: string | null;
}

/** A sweep run: its id, start and end, status, and the sums of its shards. */
export interface SweepRunRecord {
  readonly runId: string;
  readonly startedAt: string;
  /** planning: shards not yet known; running: shards on the queue; succeeded/failed once every shard reported. */
  readonly status: "planning" | "running" | "succeeded" | "failed";
  readonly shards: number;
  readonly finishedAt: string | null;
  readonly counts: ShardCounts;
  /** The plan's calls plus every shard's. */
  readonly calls: CallCounts;
  /** Log answers that were not complete: the facts they feed stayed null. */
  readonly evidenceGaps: readonly string[];
  readonly failedShards: readonly number[];
  /** Why the run failed before any shard was queued (its plan could not be made); null otherwise. */
  readonly error: string | null;
}

/** The run records (a table): each shard's result is recorded once; the last one closes the run. */
export interface SweepRuns {
  start(runId: string, startedAt: string): Promise<void>;
  planned(runId: string, plan: { readonly shards: number; readonly calls: CallCounts; readonly evidenceGaps: readonly string[] }): Promise<void>;
  /** Closes a run whose plan failed (no shard was queued): failed, with the reason, never left planning. */
  abandon(runId: string, reason: string, now: Date): Promise<void>;
  /** True when this shard's result is already recorded (a duplicate delivery has nothing left to do). */
  hasShard(runId: string, shard: number): Promise<boolean>;
  /** Records a shard's result; false when one was recorded already (the first stands). */
  recordShard(runId: string, result: ShardResult): Promise<boolean>;
  /** Closes the run when every shard has reported (one caller wins); the closed record, or null while shards are outstanding or someone else closed it. */
  finishIfComplete(runId: string, now: Date): Promise<SweepRunRecord | null>;
  get(runId: string): Promise<SweepRunRecord | null>;
  /** Runs started at or after `since` (ISO), oldest first. */
  list(options?: { readonly since?: string }): Promise<SweepRunRecord[]>;
}

/** Settings of a run. */
export interface SweepRunSettings {
  readonly shardAssignments: number;
  readonly lookbackDays: number;
}

/** The sweep's storage: staged plans, the shard queue, the run records, the findings. */
export interface SweepStores {
  readonly staging: SweepStaging;
  readonly queue: ShardQueue;
  readonly runs: SweepRuns;
  readonly findings: FindingsStore;
}

/** A run id: sortable by time, unique across instances, safe as a table key and a blob name. */
export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, "").replace("T", "-").replace("Z", "")}-${randomBytes(4).toString("hex")}`;
}

// Partitions the tenant-scope shard owns: management groups and the root.
const isTenantScopePartition = (partition: string) => partition === "root" || partition.startsWith("mg-");

// Keeps a shard message far under the queue's 64 KiB (base64 adds a third).
const MAX_PARTITIONS_PER_SHARD = 250;

/** Splits subscription partitions into shards of about `target` assignments each (a partition is never split), plus one tenant-scope shard. */
export function planShards(runId: string, counts: ReadonlyMap<string, number>, subscriptions: ReadonlySet<string>, target: number): ShardMessage[] {
  const partitions = [...counts].filter(([p]) => !isTenantScopePartition(p)).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const bins: { partitions: string[]; load: number }[] = [];
  // Largest first, each into the lightest shard that still has room; else a new shard.
  for (const [partition, count] of partitions) {
    const load = Math.max(1, count);
    let best: { partitions: string[]; load: number } | undefined;
    for (const bin of bins) if (bin.load + load <= target && bin.partitions.length < MAX_PARTITIONS_PER_SHARD && (!best || bin.load < best.load)) best = bin;
    if (!best) bins.push((best = { partitions: [], load: 0 }));
    best.partitions.push(partition);
    best.load += load;
  }
  const tenantPartitions = [...counts.keys()].filter(isTenantScopePartition).sort();
  const shards = bins.length + 1;
  const listed = (ps: readonly string[]) => ps.filter((p) => (counts.get(p) ?? 0) > 0);
  const messages: ShardMessage[] = bins.map((bin, shard) => ({ runId, shard, shards, partitions: bin.partitions.sort(), subscriptions: bin.partitions.filter((p) => subscriptions.has(p)), listed: listed(bin.partitions), tenantScope: false }));
  messages.push({ runId, shard: bins.length, shards, partitions: tenantPartitions, subscriptions: [], listed: listed(tenantPartitions), tenantScope: true });
  return messages;
}

/** A run's plan and its shards, read from Azure once: what a timer stages and enqueues, or what a command line runs in place. */
export async function readPlan(reader: SweepReader, findings: Pick<FindingsStore, "listPartitions">, settings: SweepRunSettings, now: Date, runId: string): Promise<{ readonly plan: SweepPlan; readonly shards: readonly ShardMessage[]; readonly evidenceGaps: readonly string[] }> {
  const logs = reader.activityLogs;
  const [counts, tree, roles, stored, evidence] = await Promise.all([
    reader.partitionCounts(),
    reader.tree(),
    reader.roleDefinitions(),
    findings.listPartitions(),
    logs ? gatherActivity(logs, { lookbackDays: settings.lookbackDays }) : Promise.resolve(noLogs(settings.lookbackDays)),
  ]);
  const subscriptions = new Set(tree.subscriptions.map((s) => s.subscriptionId.toLowerCase()));
  // Every partition: those with assignments, every subscription (judged as a whole even when it
  // grants nothing), and every partition holding findings that may no longer hold.
  const all = new Map(counts);
  for (const s of subscriptions) if (!all.has(s)) all.set(findingsPartition(subscriptionSubjectId(s)), 0);
  for (const p of stored) if (!all.has(p)) all.set(p, 0);
  // Facts compare a principal's home tenant with this one: never judge with a tenant id that is not known.
  if (!tree.tenantId) throw new GrantGuardError("Resource Graph shows no subscription or management group of the tenant: the sweep's identity needs Reader on the tenant root group (or on each subscription)");
  const plan: SweepPlan = { runId, now: now.toISOString(), tenantId: tree.tenantId, roles, tree, evidence };
  return { plan, shards: planShards(runId, all, subscriptions, settings.shardAssignments), evidenceGaps: evidenceGaps(evidence) };
}

/** Plans a run: records it, reads what shards need once, stages it, and enqueues the shards. */
export async function planSweep(reader: SweepReader, stores: SweepStores, settings: SweepRunSettings, now: Date, runId = newRunId(now)): Promise<{ readonly runId: string; readonly shards: number; readonly evidenceGaps: readonly string[] }> {
  await stores.runs.start(runId, now.toISOString());
  let planned = false;
  try {
    const { plan, shards, evidenceGaps: gaps } = await readPlan(reader, stores.findings, settings, now, runId);
    await stores.staging.put(plan);
    // The shard count is recorded before any shard can report, so the run cannot close early.
    await stores.runs.planned(runId, { shards: shards.length, calls: reader.calls(), evidenceGaps: gaps });
    planned = true;
    await stores.queue.send(shards);
    return { runId, shards: shards.length, evidenceGaps: gaps };
  } catch (error) {
    // Shards already queued will close the run themselves; with none queued, nothing would.
    if (!planned) await stores.runs.abandon(runId, error instanceof Error ? error.message : String(error), new Date()).catch(() => undefined);
    throw error;
  }
}

function noLogs(lookbackDays: number): ActivityEvidence {
  const none = { status: "unavailable", reason: "no Log Analytics workspace is configured (GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID)" } as const;
  return { lookbackDays, signIns: none, operations: none, grants: none, grantsLookbackDays: lookbackDays };
}

/** A shard message that will never become valid: it goes to the poison queue, kept for inspection. */
export class ShardMessageError extends GrantGuardError {}

/** Reads a shard message as the queue trigger hands it over (JSON text or an object). */
export function parseShardMessage(raw: unknown): ShardMessage {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      throw new ShardMessageError(`a sweep shard message must be JSON; got ${raw.slice(0, 80)}`);
    }
  }
  const parsed = shardMessageSchema.safeParse(value);
  if (!parsed.success) throw new ShardMessageError(`not a sweep shard message: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/** What judging a shard needs besides its reader and stores. */
export interface ShardJudging {
  readonly policies: readonly Policy[];
  readonly exemptions: readonly Exemption[];
  /** The run's plan (cached per run by the caller). */
  readonly plan: (runId: string) => Promise<SweepPlan>;
  readonly clock: () => Date;
}

/** A shard's outcome: judged now, or already recorded by an earlier delivery; `run` is set when this shard closed the run. */
export interface ShardOutcome {
  readonly status: "judged" | "duplicate";
  readonly result: ShardResult | null;
  readonly run: SweepRunRecord | null;
}

/**
 * Judges one shard: reads its partitions' assignments (Resource Graph; the root's from ARM), their
 * principals and granters (Graph, in bulk) and PIM (ARM, per partition), judges and commits each
 * partition, then records the result once and closes the run if it was the last.
 */
export async function sweepShard(message: ShardMessage, reader: SweepReader, stores: SweepStores, judging: ShardJudging, sink: SweepSink = {}): Promise<ShardOutcome> {
  if (await stores.runs.hasShard(message.runId, message.shard)) return { status: "duplicate", result: null, run: null };
  const result = await judgeShard(message, await judging.plan(message.runId), reader, stores.findings, judging, sink);
  if (!(await stores.runs.recordShard(message.runId, result))) return { status: "duplicate", result: null, run: null };
  return { status: "judged", result, run: await stores.runs.finishIfComplete(message.runId, judging.clock()) };
}

/** Judges and commits one shard's partitions against the store; returns what it did. */
export async function judgeShard(message: ShardMessage, plan: SweepPlan, reader: SweepReader, findings: FindingsStore, judging: Omit<ShardJudging, "plan">, sink: SweepSink = {}): Promise<ShardResult> {
  const now = new Date(plan.now);
  const roles = new Map(plan.roles.map((r) => [r.name.toLowerCase(), r]));
  const hierarchy = hierarchyOf(plan.tree);
  const activity = new ActivityIndex(plan.evidence, roles.values(), now);
  const owned = new Set(message.partitions);
  const pim = new PimReads(reader, plan.tree, [...owned].sort());
  const principals = new PrincipalReads(reader);
  const ahead = new ReadAhead(findings);
  const deps = { findings: ahead.store, policies: judging.policies, exemptions: judging.exemptions, now, runId: message.runId };
  const subscriptionsOf = new Map<string, string[]>();
  for (const s of message.subscriptions) {
    const partition = findingsPartition(subscriptionSubjectId(s));
    subscriptionsOf.set(partition, [...(subscriptionsOf.get(partition) ?? []), s]);
  }
  // PIM for the first partitions starts now, beside the inventory's first pages.
  pim.ahead(0);

  const { principals: _counted, ...none } = NO_COUNTS;
  let totals: Omit<ShardCounts, "principals"> = none;
  const holders = new Set<string>();
  const judged = new Set<string>();
  // One partition judged and committed: only its own assignments, PIM and principals are held.
  const judgePartition = async (partition: string, assignments: readonly RoleAssignment[]) => {
    judged.add(partition);
    for (const a of assignments) holders.add(a.principalId.toLowerCase());
    const inventory: SweepInventory = {
      tenantId: plan.tenantId,
      assignments,
      roles,
      principals: await principals.of(assignments),
      subscriptionIds: subscriptionsOf.get(partition) ?? [],
      context: new SliceContext(assignments, roles, new Map([[partition, await pim.take(partition)]]), hierarchy),
      activity,
    };
    const result = await sweepPartition({ partition, assignments, subscriptionIds: inventory.subscriptionIds }, inventory, deps, sink);
    totals = addCounts(totals, { partitions: 1, ...tallyOf(result) });
  };

  // Subscriptions' assignments arrive one partition after another (the query orders them so):
  // a partition is judged as soon as the next one begins, while the next pages are fetched.
  // Only subscriptions that exist or hold assignments are asked about; a partition only the store remembers has nothing left to list.
  const subscriptionPartitions = [...new Set([...message.subscriptions, ...message.listed])].filter((p) => !isTenantScopePartition(p));
  if (subscriptionPartitions.length > 0) {
    let current = null as { partition: string; assignments: RoleAssignment[] } | null;
    for await (const page of readingPagesAhead(reader.subscriptionAssignments(subscriptionPartitions), PAGES_AHEAD)) {
      principals.load(page);
      for (const a of page) {
        const partition = findingsPartition(a.scope);
        if (!owned.has(partition)) continue;
        if (current?.partition !== partition) {
          if (judged.has(partition)) throw new GrantGuardError(`Resource Graph listed partition ${partition}'s assignments apart: the shard's query must order them by partition`);
          if (current) await judgePartition(current.partition, current.assignments);
          current = { partition, assignments: [] };
          ahead.start(partition);
        }
        current.assignments.push(a);
      }
    }
    if (current) await judgePartition(current.partition, current.assignments);
  }
  // Management groups and the root (the tenant-scope shard, including ones the plan did not count): few, judged once all are read.
  if (message.tenantScope) {
    const above = new Map<string, RoleAssignment[]>();
    for await (const page of reader.tenantScopeAssignments()) {
      principals.load(page);
      for (const a of page) {
        const partition = findingsPartition(a.scope);
        if (!isTenantScopePartition(partition)) continue;
        owned.add(partition);
        const listed = above.get(partition);
        if (listed) listed.push(a);
        else above.set(partition, [a]);
      }
    }
    for (const [partition, assignments] of [...above].sort(([a], [b]) => a.localeCompare(b))) await judgePartition(partition, assignments);
  }
  // The shard's partitions that listed nothing: their subscriptions are judged as a whole, and what the store holds there is resolved.
  const empty = [...owned].filter((p) => !judged.has(p)).sort();
  for (const [i, partition] of empty.entries()) {
    for (const next of empty.slice(i, i + READ_AHEAD)) ahead.start(next);
    await judgePartition(partition, []);
  }
  return { shard: message.shard, status: "succeeded", counts: { ...totals, principals: holders.size }, calls: reader.calls(), finishedAt: judging.clock().toISOString(), error: null };
}

// Resource Graph pages fetched ahead of the one being judged (each is at most 1,000 assignments):
// the quota's waits pass while this process judges, instead of after it.
const PAGES_AHEAD = 2;
// Partitions with nothing listed, read ahead of the one being judged.
const READ_AHEAD = 2;
// Partitions whose PIM is read ahead of the one being judged.
const PIM_AHEAD = 8;

/** Iterates `source` with up to `ahead` pages fetched before they are asked for; a failure surfaces where its page would have. */
async function* readingPagesAhead<T>(source: AsyncIterable<T>, ahead: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  let finished = false;
  const fill = () => {
    while (!finished && queue.length < ahead) {
      const next = queue.length === 0 ? iterator.next() : queue[queue.length - 1]!.then((r) => (r.done ? r : iterator.next()));
      next.then((r) => void (r.done && (finished = true)), () => void (finished = true));
      // Each fetched page is awaited below; a failure is thrown there, not here.
      next.catch(() => undefined);
      queue.push(next);
    }
  };
  try {
    for (;;) {
      fill();
      const head = queue.shift();
      if (!head) return;
      const result = await head;
      if (result.done) return;
      yield result.value;
    }
  } finally {
    // Stopped early (a judging failure): let the source close its pages.
    if (!finished) await iterator.return?.();
  }
}

/** The shard's findings partitions, each read once ahead of its judging when asked to (`start`). */
class ReadAhead {
  readonly #pending = new Map<string, Promise<PartitionRecord>>();
  readonly store: FindingsStore;

  constructor(private readonly findings: FindingsStore) {
    const pending = this.#pending;
    // A partition's first read takes the record fetched ahead (its commit is conditional on that
    // record's versions, so a change made meanwhile fails the commit and the retry reads afresh).
    this.store = new Proxy(findings, {
      get(target, property) {
        if (property === "readPartition") {
          return (partition: string) => {
            const read = pending.get(partition);
            pending.delete(partition);
            return read ?? target.readPartition(partition);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  start(partition: string): void {
    if (this.#pending.has(partition)) return;
    const read = this.findings.readPartition(partition);
    // A failed read ahead is thrown where the partition is read, not here.
    read.catch(() => undefined);
    this.#pending.set(partition, read);
  }
}

/** The shard's principals and granters from Graph, asked for in bulk as each page arrives, each id once. */
class PrincipalReads {
  readonly #known = new Map<string, Principal>();
  readonly #asked = new Set<string>();
  #loading: Promise<unknown> = Promise.resolve();

  constructor(private readonly reader: Pick<SweepReader, "principals">) {}

  load(page: readonly RoleAssignment[]): void {
    const ids = new Set<string>();
    for (const a of page) for (const id of [a.principalId, a.createdBy]) if (id && !this.#asked.has(id.toLowerCase())) ids.add(id.toLowerCase());
    if (ids.size === 0) return;
    for (const id of ids) this.#asked.add(id);
    const read = this.reader.principals([...ids]).then((found) => {
      for (const p of found) this.#known.set(p.id.toLowerCase(), p);
    });
    read.catch(() => undefined);
    this.#loading = Promise.all([this.#loading, read]);
  }

  /** The directory objects these assignments name (and their granters), once every read asked so far has answered. */
  async of(assignments: readonly RoleAssignment[]): Promise<ReadonlyMap<string, Principal>> {
    await this.#loading;
    const out = new Map<string, Principal>();
    for (const a of assignments) {
      for (const id of [a.principalId, a.createdBy]) {
        const p = id && this.#known.get(id.toLowerCase());
        if (p) out.set(p.id.toLowerCase(), p);
      }
    }
    return out;
  }
}

/**
 * PIM per partition, in bulk: a subscription's at and below (one list each of instances and
 * requests), a management group's and the root's exactly at their scope. Read a few partitions
 * ahead of the one being judged, in the order the shard meets them (partition order); each
 * partition's records are held only until it is judged.
 */
class PimReads {
  readonly #reads = new Map<string, Promise<PartitionPim>>();
  // Partitions already judged: their records are never read again.
  readonly #taken = new Set<string>();
  readonly #groups: ReadonlyMap<string, string>;
  readonly #position: ReadonlyMap<string, number>;

  constructor(
    private readonly reader: Pick<SweepReader, "pim">,
    tree: TenantTree,
    private readonly order: readonly string[],
  ) {
    this.#groups = new Map(tree.managementGroups.map((m) => [findingsPartition(`/providers/Microsoft.Management/managementGroups/${m.name}`), m.name]));
    this.#position = new Map(order.map((p, i) => [p, i]));
  }

  /** Starts the reads of the PIM_AHEAD partitions from `index` in the shard's order. */
  ahead(index: number): void {
    for (const partition of this.order.slice(index, index + PIM_AHEAD)) this.#start(partition);
  }

  #start(partition: string): void {
    if (this.#reads.has(partition) || this.#taken.has(partition)) return;
    const scope = partition === "root" ? "/" : partition.startsWith("mg-") ? (this.#groups.has(partition) ? `/providers/Microsoft.Management/managementGroups/${this.#groups.get(partition)}` : null) : `/subscriptions/${partition}`;
    const read: Promise<PartitionPim> =
      scope === null
        ? Promise.resolve({ instances: null, requests: null })
        : this.reader.pim(scope, isTenantScopePartition(partition)).then((listed) => {
            // Listing at a subscription also returns what is above it: keep the partition's own.
            const own = <T extends { scope: string }>(records: T[] | null) => records && records.filter((r) => findingsPartition(r.scope) === partition);
            return { instances: own(listed.instances), requests: own(listed.requests) };
          });
    // A failed read is thrown where its partition is judged, not here.
    read.catch(() => undefined);
    this.#reads.set(partition, read);
  }

  /** The partition's PIM records (read now if they were not read ahead), then the reads of the partitions after it begin. */
  async take(partition: string): Promise<PartitionPim> {
    this.#taken.delete(partition);
    this.#start(partition);
    const read = this.#reads.get(partition)!;
    this.#reads.delete(partition);
    this.#taken.add(partition);
    const index = this.#position.get(partition);
    if (index !== undefined) this.ahead(index + 1);
    return read;
  }
}

/** What a sweep run in place did: its plan's facts and the sums of its shards. */
export interface InPlaceRun {
  readonly runId: string;
  readonly shards: number;
  readonly counts: ShardCounts;
  readonly calls: CallCounts;
  readonly evidenceGaps: readonly string[];
}

/**
 * Runs a whole sweep in this process, shard after shard, with no queue: the command line's live
 * sweep. With a read-only store (dryRunFindings) it judges and reports what would change.
 */
export async function sweepInPlace(reader: SweepReader, findings: FindingsStore, judging: Omit<ShardJudging, "plan">, settings: SweepRunSettings, sink: SweepSink & { shard?(done: number, total: number): void } = {}): Promise<InPlaceRun> {
  const now = judging.clock();
  const runId = newRunId(now);
  const { plan, shards, evidenceGaps: gaps } = await readPlan(reader, findings, settings, now, runId);
  let counts = NO_COUNTS;
  for (const [i, message] of shards.entries()) {
    const result = await judgeShard(message, plan, reader, findings, judging, sink);
    counts = addCounts(counts, result.counts);
    sink.shard?.(i + 1, shards.length);
  }
  return { runId, shards: shards.length, counts, calls: reader.calls(), evidenceGaps: gaps };
}

/** A findings store that reads the real one and writes nothing: commits succeed and are only counted (a dry run). */
export function dryRunFindings(store: FindingsStore): FindingsStore & { readonly wouldWrite: () => number } {
  let count = 0;
  const refuse = (): never => {
    throw new GrantGuardError("a dry run writes nothing");
  };
  // The partition index is registered before a partition's first write: a partition it lacks holds nothing to read.
  let indexed: Promise<ReadonlySet<string>> | undefined;
  const listed = () => (indexed ??= store.listPartitions().then((ps) => new Set(ps)));
  return {
    list: (options) => store.list(options),
    read: (id) => store.read(id),
    readPartition: async (partition) => ((await listed()).has(partition) ? store.readPartition(partition) : { partition, findings: [], versions: new Map() }),
    listPartitions: async () => [...(await listed())],
    listPendingAlerts: (options) => store.listPendingAlerts(options),
    commit: async () => refuse(),
    claimAlerts: async () => refuse(),
    clearAlertsPending: async () => refuse(),
    commitPartition: async (_record, findings) => {
      count += findings.length;
      return true;
    },
    wouldWrite: () => count,
  };
}

/** Records a shard the queue gave up on (its poison-queue copy): the run then closes as failed instead of waiting for ever. */
export async function recordFailedShard(message: ShardMessage, runs: SweepRuns, clock: () => Date, error: string): Promise<SweepRunRecord | null> {
  await runs.recordShard(message.runId, { shard: message.shard, status: "failed", counts: NO_COUNTS, calls: NO_CALLS, finishedAt: clock().toISOString(), error });
  return runs.finishIfComplete(message.runId, clock());
}

/** How long the outbox holds back a sweep run's changes while the run is open: past this, a run that never closed lets them go. */
export const SWEEP_ALERT_HOLD_MS = 60 * 60_000;
const RUN_STATUS_MEMO_MS = 2_000;

/**
 * The findings store as the outbox timer should see it during sweeps: a change a sweep run made
 * waits while that run is still open (for at most SWEEP_ALERT_HOLD_MS), so the run's alerts go out
 * together when its last shard closes it — one summary per channel instead of one per timer round.
 */
export function holdingOpenSweeps(store: FindingsStore, runs: Pick<SweepRuns, "get">, clock: () => Date): FindingsStore {
  const memo = new Map<string, { at: number; open: Promise<boolean> }>();
  const isOpen = (runId: string): Promise<boolean> => {
    const now = clock().getTime();
    const hit = memo.get(runId);
    if (hit && now - hit.at < RUN_STATUS_MEMO_MS) return hit.open;
    const open = runs.get(runId).then(
      (run) => run !== null && (run.status === "planning" || run.status === "running") && now - Date.parse(run.startedAt) < SWEEP_ALERT_HOLD_MS,
      // Unreadable run records never hold alerts back.
      () => false,
    );
    memo.set(runId, { at: now, open });
    if (memo.size > 100) memo.delete(memo.keys().next().value as string);
    return open;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === "listPendingAlerts") {
        return async (options?: Parameters<FindingsStore["listPendingAlerts"]>[0]) => {
          const pending = await target.listPendingAlerts(options);
          const held = await Promise.all(pending.map((p) => (p.finding.lastEventId?.startsWith("sweep:") ? isOpen(p.finding.lastEventId.slice("sweep:".length)) : Promise.resolve(false))));
          return pending.filter((_, i) => !held[i]);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
