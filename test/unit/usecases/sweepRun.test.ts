import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SnapshotActivityLogs } from "../../../shared/facts/snapshotActivity.js";
import { gatherActivity } from "../../../shared/facts/sweepFacts.js";
import { findingsPartition } from "../../../shared/findings/keys.js";
import type { PendingAlert } from "../../../shared/findings/store.js";
import { roleAssignmentFromArm, roleDefinitionFromArm } from "../../../shared/model/access.js";
import { readTenantSnapshot } from "../../../shared/model/snapshot.js";
import { loadPolicyPack } from "../../../shared/policy/load.js";
import { holdingOpenSweeps, judgeShard, NO_CALLS, parseShardMessage, planShards, planSweep, ShardMessageError, type SweepReader, type SweepRunRecord, type SweepRuns, type SweepStores } from "../../../shared/usecases/sweepRun.js";
import { queueSettingsFromHostJson, decodeQueueMessage } from "../../../local/devhost.js";
import { InMemoryFindingsStore } from "../../support/fakes.js";

const sub = (n: number) => `5a5a5a5a-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("planning a sweep's shards", () => {
  it("balances subscriptions into shards of about the target size, never splits one, and gives management groups and the root their own shard", () => {
    const counts = new Map<string, number>([[sub(1), 900], [sub(2), 400], [sub(3), 300], [sub(4), 300], [sub(5), 0], ["mg-platform", 5], ["root", 0]]);
    const shards = planShards("run-1", counts, new Set([sub(1), sub(2), sub(3), sub(4), sub(5)]), 1000);
    const tenant = shards.at(-1)!;
    expect(tenant).toMatchObject({ tenantScope: true, partitions: ["mg-platform", "root"], subscriptions: [] });
    const bins = shards.slice(0, -1);
    expect(bins.flatMap((s) => s.partitions).sort()).toEqual([sub(1), sub(2), sub(3), sub(4), sub(5)]);
    for (const s of bins) expect(s.partitions.reduce((n, p) => n + (counts.get(p) ?? 0), 0)).toBeLessThanOrEqual(1000);
    expect(bins).toHaveLength(2);
    expect(shards.every((s) => s.shards === shards.length && s.runId === "run-1")).toBe(true);
    // Resource Graph is asked only about partitions it counted assignments in.
    expect(shards.flatMap((s) => s.listed).sort()).toEqual([sub(1), sub(2), sub(3), sub(4), "mg-platform"]);
    expect(shards.map((s) => s.shard)).toEqual(shards.map((_, i) => i));
  });

  it("puts a partition bigger than the target alone in its shard, and keeps each message far under the queue's 64 KiB", () => {
    const counts = new Map<string, number>([[sub(1), 50_000], ...Array.from({ length: 2000 }, (_, i) => [sub(i + 2), 1] as [string, number])]);
    const shards = planShards("run-2", counts, new Set(counts.keys()), 5000);
    expect(shards.find((s) => s.partitions.includes(sub(1)))!.partitions).toEqual([sub(1)]);
    for (const s of shards) expect(Buffer.from(JSON.stringify(s)).toString("base64").length).toBeLessThan(48 * 1024);
  });

  it("refuses a message that is not a shard with an error that names what is wrong", () => {
    expect(() => parseShardMessage("not json")).toThrow(ShardMessageError);
    expect(() => parseShardMessage({ runId: "r", shard: -1, shards: 1, partitions: [], subscriptions: [], tenantScope: false })).toThrow(/shard/);
    expect(parseShardMessage(JSON.stringify({ runId: "r", shard: 0, shards: 1, partitions: ["root"], subscriptions: [], listed: [], tenantScope: true }))).toMatchObject({ partitions: ["root"] });
  });
});

describe("a run whose plan fails", () => {
  it("is closed as failed with the reason, instead of staying in planning for ever, and nothing is queued", async () => {
    const events: string[] = [];
    const runs = {
      start: async (runId: string) => void events.push(`start ${runId}`),
      planned: async () => void events.push("planned"),
      abandon: async (_runId: string, reason: string) => void events.push(`abandon ${reason}`),
    } as unknown as SweepRuns;
    const stores = { runs, findings: new InMemoryFindingsStore(), staging: { put: async () => void events.push("staged") }, queue: { send: async () => void events.push("queued") } } as unknown as SweepStores;
    const refused = Object.assign(new Error("Resource Graph refused the query (403)"), { statusCode: 403 });
    const reader = { calls: () => NO_CALLS, activityLogs: null, partitionCounts: async () => Promise.reject(refused), tree: async () => ({ tenantId: "t", managementGroups: [], subscriptions: [] }), roleDefinitions: async () => [] } as unknown as SweepReader;
    await expect(planSweep(reader, stores, { shardAssignments: 10, lookbackDays: 90 }, new Date("2026-12-01T00:00:00Z"), "run-x")).rejects.toThrow("403");
    expect(events).toEqual(["start run-x", "abandon Resource Graph refused the query (403)"]);
  });
});

describe("the outbox during a sweep", () => {
  const run = (status: SweepRunRecord["status"], startedAt = new Date().toISOString()): SweepRunRecord => ({ runId: "r1", startedAt, status, shards: 2, finishedAt: null, counts: { partitions: 0, assignments: 0, subscriptions: 0, principals: 0, findingWrites: 0, opened: 0, resolved: 0, holding: 0, evaluationErrors: 0 }, calls: { resourceGraph: 0, arm: 0, graph: 0, logAnalytics: 0 }, evidenceGaps: [], failedShards: [], error: null });
  const pending = (lastEventId: string | null) => ({ finding: { id: lastEventId ?? "event", lastEventId }, version: "1", writtenAt: new Date(), claimedUntil: null, mayBeRecorded: false }) as unknown as PendingAlert;

  it("holds an open run's changes until the run closes, and never an event's", async () => {
    const store = new InMemoryFindingsStore();
    const changes = [pending("sweep:r1"), pending("evt-1"), pending(null)];
    store.listPendingAlerts = async () => changes;
    let status: SweepRunRecord["status"] = "running";
    let now = Date.now();
    const held = holdingOpenSweeps(store, { get: async () => run(status) }, () => new Date(now));
    expect((await held.listPendingAlerts()).map((p) => p.finding.lastEventId)).toEqual(["evt-1", null]);
    status = "succeeded";
    now += 5_000;
    expect((await held.listPendingAlerts()).map((p) => p.finding.lastEventId)).toEqual(["sweep:r1", "evt-1", null]);
    // Everything else is the store's own.
    expect(await held.listPartitions()).toEqual([]);
  });

  it("lets a run's changes go when the run never closed within the hold", async () => {
    const store = new InMemoryFindingsStore();
    store.listPendingAlerts = async () => [pending("sweep:r1")];
    const held = holdingOpenSweeps(store, { get: async () => run("running", new Date(Date.now() - 2 * 3_600_000).toISOString()) }, () => new Date());
    expect(await held.listPendingAlerts()).toHaveLength(1);
  });
});

describe("the dev host's queue trigger settings", () => {
  it("reads host.json's extensions.queues over the extension's defaults", () => {
    expect(queueSettingsFromHostJson({})).toEqual({ batchSize: 16, newBatchThreshold: 8, maxDequeueCount: 5, visibilityTimeoutMs: 0, maxPollingIntervalMs: 60_000, messageEncoding: "base64" });
    expect(queueSettingsFromHostJson({ extensions: { queues: { batchSize: 4, maxDequeueCount: 2, visibilityTimeout: "00:00:30", maxPollingInterval: "00:00:02.500" } } })).toMatchObject({ batchSize: 4, newBatchThreshold: 2, maxDequeueCount: 2, visibilityTimeoutMs: 30_000, maxPollingIntervalMs: 2_500 });
  });

  it("decodes base64 messages, hands JSON over as an object, and refuses text that is not base64", () => {
    expect(decodeQueueMessage(Buffer.from('{"a":1}').toString("base64"), "base64")).toEqual({ a: 1 });
    expect(decodeQueueMessage(Buffer.from("plain").toString("base64"), "base64")).toBe("plain");
    expect(() => decodeQueueMessage("{not base64}", "base64")).toThrow(/base64/);
    expect(decodeQueueMessage('{"a":1}', "none")).toEqual({ a: 1 });
  });
});

describe("judging a shard from Resource Graph's pages", async () => {
  const NOW = new Date("2026-12-01T00:00:00.000Z");
  const tenant = await readTenantSnapshot(fileURLToPath(new URL("../../../local/demo/tenant.json", import.meta.url)));
  const pack = await loadPolicyPack(fileURLToPath(new URL("../../../policies", import.meta.url)));
  const assignments = tenant.roleAssignments.map(roleAssignmentFromArm);
  const above = (p: string) => p === "root" || p.startsWith("mg-");
  const lastSegment = (id: string | undefined | null) => id?.split("/").pop() ?? null;
  const plan = {
    runId: "run-pages",
    now: NOW.toISOString(),
    tenantId: tenant.tenantId,
    roles: tenant.roleDefinitions.map(roleDefinitionFromArm),
    tree: {
      tenantId: tenant.tenantId,
      managementGroups: tenant.managementGroups.map((m) => ({ name: m.name, parent: lastSegment((m.properties as { details?: { parent?: { id?: string } | null } } | undefined)?.details?.parent?.id) })),
      subscriptions: tenant.subscriptions.map((s) => ({ subscriptionId: s.subscriptionId.toLowerCase(), managementGroup: lastSegment(s.managementGroupId) })),
    },
    evidence: await gatherActivity(new SnapshotActivityLogs(tenant, NOW), { lookbackDays: 90 }),
  };
  const counts = new Map<string, number>();
  for (const a of assignments) counts.set(findingsPartition(a.scope), (counts.get(findingsPartition(a.scope)) ?? 0) + 1);
  const shards = planShards(plan.runId, counts, new Set(plan.tree.subscriptions.map((s) => s.subscriptionId)), 120);

  /** A reader serving the demo tenant's assignments in pages of `size`, in the order `order` gives. */
  const reader = (size: number, order: (a: (typeof assignments)[number], b: (typeof assignments)[number]) => number, pimScopes: string[] = []): SweepReader => ({
    calls: () => NO_CALLS,
    activityLogs: null,
    partitionCounts: async () => counts,
    tree: async () => plan.tree,
    roleDefinitions: async () => plan.roles,
    async *subscriptionAssignments(ids) {
      const wanted = new Set(ids);
      const listed = assignments.filter((a) => wanted.has(findingsPartition(a.scope))).sort(order);
      for (let i = 0; i < listed.length; i += size) yield listed.slice(i, i + size);
    },
    async *tenantScopeAssignments() {
      yield assignments.filter((a) => above(findingsPartition(a.scope)));
    },
    pim: async (scope) => {
      pimScopes.push(scope);
      return { instances: [], requests: [] };
    },
    principals: async (ids) => tenant.principals.filter((p) => ids.includes(p.id.toLowerCase())),
  });
  const byPartition = (a: { id: string; scope: string }, b: { id: string; scope: string }) => findingsPartition(a.scope).localeCompare(findingsPartition(b.scope)) || a.id.localeCompare(b.id);
  const judging = { policies: pack.policies, exemptions: pack.exemptions, clock: () => NOW };
  const sweepAll = async (source: SweepReader) => {
    const store = new InMemoryFindingsStore();
    let partitions = 0;
    for (const message of shards) partitions += (await judgeShard(message, plan, source, store, judging)).counts.partitions;
    return { store, partitions };
  };

  it("judges partitions that span pages, and pages that hold many partitions, exactly as whole ones", async () => {
    expect(shards.length).toBeGreaterThan(2);
    const whole = await sweepAll(reader(1000, byPartition));
    const paged = await sweepAll(reader(7, byPartition));
    expect(whole.store.findings.size).toBeGreaterThan(100);
    expect(paged.partitions).toBe(whole.partitions);
    expect([...paged.store.findings.values()].sort((a, b) => a.id.localeCompare(b.id))).toEqual([...whole.store.findings.values()].sort((a, b) => a.id.localeCompare(b.id)));
  });

  it("lists each partition's PIM once, whether read ahead, judged from pages or judged empty", async () => {
    const empty = "0e0e0e0e-0000-4000-8000-000000000000";
    const subscriptions = new Set([...plan.tree.subscriptions.map((s) => s.subscriptionId), empty]);
    const [message] = planShards(plan.runId, new Map([...counts, [empty, 0]]), subscriptions, 100_000);
    const pimScopes: string[] = [];
    const result = await judgeShard(message!, plan, reader(7, byPartition, pimScopes), new InMemoryFindingsStore(), judging);
    expect(result.counts.partitions).toBe(message!.partitions.length);
    expect(pimScopes.sort()).toEqual(message!.partitions.map((p) => `/subscriptions/${p}`).sort());
  });

  it("refuses pages whose partitions are interleaved, instead of judging a partition before all of it has arrived", async () => {
    const interleaved = reader(7, (a, b) => a.name.localeCompare(b.name));
    // Every subscription in one shard.
    const [message] = planShards(plan.runId, counts, new Set(plan.tree.subscriptions.map((s) => s.subscriptionId)), 100_000);
    expect(message!.partitions.length).toBeGreaterThan(1);
    await expect(judgeShard(message!, plan, interleaved, new InMemoryFindingsStore(), judging)).rejects.toThrow(/listed partition .* apart/);
  });
});
