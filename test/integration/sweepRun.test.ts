import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { tenantSnapshotSchema, type TenantSnapshot } from "../../shared/model/snapshot.js";
import type { Finding } from "../../shared/model/finding.js";
import type { FindingsStore } from "../../shared/findings/store.js";
import { getRuntime, type Runtime } from "../../shared/runtime.js";
import { judgePartition, partitionInventory } from "../../shared/usecases/sweep.js";
import { snapshotInventory } from "../../shared/usecases/sweepSnapshot.js";
import { parseShardMessage, sweepInPlace, sweepShard, type SweepRunRecord } from "../../shared/usecases/sweepRun.js";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { DevHost, type HostLog } from "../../local/devhost.js";
import { functionRegistrations, type FunctionRegistration } from "../../functions/index.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";
import { QueueClient } from "@azure/storage-queue";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { createFindingsStore } from "../../shared/azure/compose.js";
import { TableServiceClient } from "@azure/data-tables";

// The live sweep end to end: the timer fired through the dev host's admin API, shards on Azurite's
// queue taken by the dev host's queue trigger, Resource Graph, ARM, Graph and Log Analytics read
// through the real SDK clients from the simulator, findings committed to Azurite's tables.

// The fixture's logs and dates are written as of this time; the live sweep judges as of the real
// clock (Log Analytics windows end now), so every time in the tenant is moved to today.
const WRITTEN_AS_OF = Date.parse("2026-12-01T00:00:00.000Z");
let tenant: TenantSnapshot;
let azure: TestAzure;
beforeAll(async () => {
  const shift = Date.now() - WRITTEN_AS_OF;
  const text = await readFile(fixture("tenants/sweep.json"), "utf8");
  tenant = tenantSnapshotSchema.parse(JSON.parse(text.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, (t) => new Date(Date.parse(t) + shift).toISOString())));
  azure = await startTestAzure(tenant);
});
afterAll(async () => {
  await azure?.stop();
});

// What the functions logged, shown when a run does not close.
const hostLogs: HostLog[] = [];

const FAST_QUEUES = { maxPollingIntervalMs: 100, visibilityTimeoutMs: 0 } as const;

/** A dev host serving these registrations (the app's by default, on the process-wide runtime). */
async function startHost(registrations: readonly FunctionRegistration[] = functionRegistrations, logs: HostLog[] = hostLogs): Promise<DevHost> {
  const host = new DevHost((log) => logs.push(log), { registrations, queues: FAST_QUEUES });
  await host.start();
  host.startQueues();
  return host;
}

async function fireSweep(host: DevHost): Promise<void> {
  const response = await fetch(`${host.url}/admin/functions/sweepTenant`, { method: "POST", headers: { "x-functions-key": host.masterKey, "content-type": "application/json" }, body: "{}" });
  expect(response.status).toBe(202);
}

/** Waits until a run started at or after `since` has closed. */
async function closedRun(runtime: Runtime, since: string, timeoutMs = 30_000): Promise<SweepRunRecord> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = (await runtime.sweep.stores().runs.list({ since })).find((r) => r.status === "succeeded" || r.status === "failed");
    if (run) return run;
    if (Date.now() > until) throw new Error(`no sweep run closed within ${timeoutMs} ms: ${JSON.stringify(await runtime.sweep.stores().runs.list({ since }))}\n${hostLogs.map((l) => `${l.functionName} ${l.level} ${l.message}`).join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// What a finding says, without the times and ids of the run that wrote it.
const judged = (fs: readonly Finding[]) =>
  fs
    .filter((f) => f.status !== "resolved")
    .map((f) => ({ id: f.id, policyId: f.policyId, status: f.status, severity: f.severity, matchedFacts: f.matchedFacts }))
    .sort((a, b) => a.id.localeCompare(b.id));

/** The offline sweep of the same snapshot as of `now`: what a fresh store holds after one run. */
async function offlineFindings(runtime: Runtime, now: Date): Promise<Finding[]> {
  const { inventory } = await snapshotInventory(tenant, { now, lookbackDays: runtime.config.sweep.lookbackDays });
  const out: Finding[] = [];
  for (const slice of partitionInventory(inventory)) out.push(...(await judgePartition(slice, [], inventory, { policies: runtime.pack.policies, exemptions: runtime.pack.exemptions, now, runId: "offline" })).holding);
  return out;
}

describe("the live sweep through the queue", () => {
  it("judges every partition — management-group and root grants, subscriptions as a whole — exactly as the offline sweep of the same tenant does, and a second run writes and announces nothing", async () => {
    const runtime = await getRuntime();
    const host = await startHost();
    try {
      const since = new Date().toISOString();
      await fireSweep(host);
      const run = await closedRun(runtime, since);
      expect(run).toMatchObject({ status: "succeeded", failedShards: [], evidenceGaps: [] });
      expect(run.shards).toBeGreaterThanOrEqual(2);
      expect(run.counts.assignments).toBe(10);
      expect(run.counts.subscriptions).toBe(2);
      // Logs asked once per run, whatever the number of shards; one bulk Graph read per shard at most.
      expect(run.calls.logAnalytics).toBe(3);
      expect(run.calls.graph).toBeLessThanOrEqual(run.shards);
      const plan = await runtime.sweep.stores().staging.get(run.runId);
      const stored = await runtime.services.findings.list();
      // Grants no event announces, a subscription as a whole, and what only the logs tell, each with its reasons.
      const open = new Set(stored.filter((f) => f.status === "open").map((f) => f.policyId));
      for (const policy of ["root-scope-assignment", "management-group-privileged-grant", "subscription-without-owner", "inactive-identity", "overprovisioned-role", "unusual-granter"]) expect(open, policy).toContain(policy);
      expect(stored.find((f) => f.policyId === "unusual-granter")!.matchedFacts).toMatchObject({ "grantedBy.seenInBaseline": false });
      expect(judged(stored)).toEqual(judged(await offlineFindings(runtime, new Date(plan.now))));
      expect(run.counts.findingWrites).toBe(stored.length);

      const deliveries = (await runtime.services.deliveries.list()).length;
      const again = new Date().toISOString();
      await fireSweep(host);
      const second = await closedRun(runtime, again);
      expect(second.counts).toMatchObject({ findingWrites: 0, resolved: 0, assignments: 10 });
      await runtime.dispatchAlerts();
      expect((await runtime.services.deliveries.list()).length).toBe(deliveries);
    } finally {
      await host.stop();
    }
  });

  it("resolves the findings of a subscription that has left the tenant, found through the store's partition index", async () => {
    const runtime = await getRuntime();
    const host = await startHost();
    try {
      const gone = "9e9e9e9e-0000-4000-8000-000000000009";
      const [model] = (await runtime.services.findings.list({ status: "open" })).filter((f) => f.subscriptionId === "5a5a5a5a-0000-4000-8000-000000000001");
      const scope = `/subscriptions/${gone}`;
      const orphan = { ...model!, id: `${model!.policyId}.gone`, scope, subscriptionId: gone, assignmentId: `${scope}/providers/Microsoft.Authorization/roleAssignments/0f0f0f0f-0000-4000-8000-000000000000` };
      expect(await runtime.services.findings.commitPartition(await runtime.services.findings.readPartition(gone), [orphan])).toBe(true);
      const since = new Date().toISOString();
      await fireSweep(host);
      const run = await closedRun(runtime, since);
      expect(run.counts.resolved).toBe(1);
      expect((await runtime.services.findings.list({ subscriptionId: gone })).map((f) => [f.id, f.status])).toEqual([[orphan.id, "resolved"]]);
    } finally {
      await host.stop();
    }
  });

  it("retries a shard whose instance died after its first partition commit, and ends exactly where a clean run ends", async () => {
    const runtime = await azure.runtime({ GRANTGUARD_SWEEP_RUNS_TABLE: `runs${process.pid}k` });
    const stores = runtime.sweep.stores();
    let died = false;
    const dying: FindingsStore = {
      list: (o) => stores.findings.list(o),
      read: (id) => stores.findings.read(id),
      commit: (r, c) => stores.findings.commit(r, c),
      readPartition: (p) => stores.findings.readPartition(p),
      listPartitions: () => stores.findings.listPartitions(),
      listPendingAlerts: (o) => stores.findings.listPendingAlerts(o),
      claimAlerts: (p, u) => stores.findings.claimAlerts(p, u),
      clearAlertsPending: (p) => stores.findings.clearAlertsPending(p),
      commitPartition: async (record, findings) => {
        const committed = await stores.findings.commitPartition(record, findings);
        if (!died && findings.length > 0) {
          died = true;
          throw new Error("the instance dies after its first partition commit");
        }
        return committed;
      },
    };
    let deliveries = 0;
    const host = await startHost([
      { name: "sweepTenant", trigger: "timer", schedule: "0 0 3 * * *", localPeriodMs: null, handler: async () => void (await runtime.planSweep()) },
      {
        name: "sweepShard",
        trigger: "storageQueue",
        queueName: "sweep-shards",
        connection: "GRANTGUARD_STORAGE",
        handler: async (message) => {
          deliveries += 1;
          await sweepShard(parseShardMessage(message), runtime.sweep.reader(), { ...stores, findings: dying }, { policies: runtime.pack.policies, exemptions: runtime.pack.exemptions, plan: (id) => stores.staging.get(id), clock: () => new Date() });
        },
      },
    ]);
    try {
      const since = new Date().toISOString();
      await fireSweep(host);
      const run = await closedRun(runtime, since);
      expect(died).toBe(true);
      expect(deliveries).toBe(run.shards + 1);
      expect(run).toMatchObject({ status: "succeeded", failedShards: [] });
      const plan = await stores.staging.get(run.runId);
      expect(judged(await runtime.services.findings.list())).toEqual(judged(await offlineFindings(runtime, new Date(plan.now))));
    } finally {
      await host.stop();
    }
  });

  it("marks a run failed when a shard keeps failing until the queue moves it to the poison queue", async () => {
    const runtime = await azure.runtime({ GRANTGUARD_SWEEP_RUNS_TABLE: `runs${process.pid}p` });
    const host = new DevHost((log) => hostLogs.push(log), {
      queues: { ...FAST_QUEUES, maxDequeueCount: 2 },
      registrations: [
        { name: "sweepTenant", trigger: "timer", schedule: "0 0 3 * * *", localPeriodMs: null, handler: async () => void (await runtime.planSweep()) },
        {
          name: "sweepShard",
          trigger: "storageQueue",
          queueName: "sweep-shards",
          connection: "GRANTGUARD_STORAGE",
          handler: async (message) => {
            if (parseShardMessage(message).tenantScope) throw new Error("the tenant-scope shard always fails");
            await runtime.sweepShard(message);
          },
        },
        { name: "sweepShardPoison", trigger: "storageQueue", queueName: "sweep-shards-poison", connection: "GRANTGUARD_STORAGE", handler: async (message) => void (await runtime.sweepShardFailed(message)) },
      ],
    });
    await host.start();
    host.startQueues();
    try {
      const since = new Date().toISOString();
      await fireSweep(host);
      const run = await closedRun(runtime, since);
      expect(run.status).toBe("failed");
      expect(run.failedShards).toEqual([run.shards - 1]);
      // The other shards' work stands.
      expect(run.counts.subscriptions).toBe(2);
    } finally {
      await host.stop();
    }
  });

  it("shares one run's shards between two instances, each shard judged and counted once", async () => {
    const settings = { GRANTGUARD_SWEEP_RUNS_TABLE: `runs${process.pid}two`, GRANTGUARD_FINDINGS_TABLE: `findings${process.pid}two`, GRANTGUARD_SWEEP_SHARD_ASSIGNMENTS: "1" };
    const instances = await Promise.all([azure.runtime(settings), azure.runtime(settings)]);
    const taken = [0, 0];
    const hosts = await Promise.all(
      instances.map((runtime, i) =>
        startHost([
          { name: "sweepTenant", trigger: "timer", schedule: "0 0 3 * * *", localPeriodMs: null, handler: async () => void (await runtime.planSweep()) },
          {
            name: "sweepShard",
            trigger: "storageQueue",
            queueName: "sweep-shards",
            connection: "GRANTGUARD_STORAGE",
            handler: async (message) => {
              taken[i]! += 1;
              await runtime.sweepShard(message);
            },
          },
        ]),
      ),
    );
    try {
      const since = new Date().toISOString();
      await fireSweep(hosts[0]!);
      const run = await closedRun(instances[0]!, since);
      expect(run).toMatchObject({ status: "succeeded", shards: 3 });
      expect(taken[0]! + taken[1]!).toBe(3);
      expect(run.counts).toMatchObject({ assignments: 10, subscriptions: 2 });
      const plan = await instances[0]!.sweep.stores().staging.get(run.runId);
      expect(judged(await instances[1]!.services.findings.list())).toEqual(judged(await offlineFindings(instances[0]!, new Date(plan.now))));
    } finally {
      await Promise.all(hosts.map((h) => h.stop()));
    }
  });

  it("a steady run asks the findings table once per partition it judges and sends it no write", async () => {
    const table = `steady${process.pid}`;
    const runtime = await azure.runtime({ GRANTGUARD_FINDINGS_TABLE: table });
    const judging = { policies: runtime.pack.policies, exemptions: runtime.pack.exemptions, clock: () => new Date() };
    const settings = { shardAssignments: 4, lookbackDays: runtime.config.sweep.lookbackDays };
    const first = await sweepInPlace(runtime.sweep.reader(), runtime.services.findings, judging, settings);
    expect(first.counts.findingWrites).toBeGreaterThan(0);
    // Every request Node sends for this table, as the store sends it (queries, upserts, batches).
    const sent: { method: string; path: string }[] = [];
    const count = (message: unknown) => {
      const request = (message as { request: ClientRequest }).request;
      if (decodeURIComponent(request.path).includes(table) || request.path.includes("$batch")) sent.push({ method: request.method, path: request.path });
    };
    subscribe("http.client.request.start", count);
    try {
      const steady = await sweepInPlace(runtime.sweep.reader(), runtime.services.findings, judging, settings);
      expect(steady.counts.findingWrites).toBe(0);
      expect(sent.filter((r) => r.method !== "GET")).toEqual([]);
      // The partition index once (the plan), then one query per partition.
      expect(sent.length).toBe(steady.counts.partitions + 1);
    } finally {
      unsubscribe("http.client.request.start", count);
    }
  });
});

describe("what a sweep reads from Resource Graph", () => {
  it("counts assignments per partition in one query, and lists every subscription and management group with its parent from resourcecontainers", async () => {
    const reader = (await getRuntime()).sweep.reader();
    const counts = await reader.partitionCounts();
    expect(Object.fromEntries(counts)).toEqual({ "5a5a5a5a-0000-4000-8000-000000000001": 7, "5b5b5b5b-0000-4000-8000-000000000002": 1, "mg-contoso-platform": 1 });
    expect(await reader.tree()).toEqual({
      tenantId: tenant.tenantId,
      managementGroups: [{ name: "contoso-platform", parent: null }],
      subscriptions: [
        { subscriptionId: "5a5a5a5a-0000-4000-8000-000000000001", managementGroup: "contoso-platform" },
        { subscriptionId: "5b5b5b5b-0000-4000-8000-000000000002", managementGroup: "contoso-platform" },
      ],
    });
    expect(reader.calls()).toEqual({ resourceGraph: 2, arm: 0, graph: 0, logAnalytics: 0 });
  });
});

describe("a dry run's reads", () => {
  it("read a findings table that does not exist as empty, without creating it (a reader may not create tables)", async () => {
    const credential = createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 });
    const name = `neverwritten${process.pid}`;
    const store = createFindingsStore(process.env.GRANTGUARD_TABLE_ENDPOINT!, name, credential);
    expect(await store.listPartitions()).toEqual([]);
    expect(await store.readPartition("5a5a5a5a-0000-4000-8000-000000000001")).toEqual({ partition: "5a5a5a5a-0000-4000-8000-000000000001", findings: [], versions: new Map() });
    const tables: string[] = [];
    for await (const t of new TableServiceClient(process.env.GRANTGUARD_TABLE_ENDPOINT!, credential).listTables()) tables.push(t.name ?? "");
    expect(tables).not.toContain(name);
  });
});

describe("the dev host's queue trigger", () => {
  it("decodes base64 JSON, deletes a message on success, lets a failed one reappear with its dequeue count, moves it to {queue}-poison after maxDequeueCount, and runs at most batchSize + newBatchThreshold at once", async () => {
    const credential = createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 });
    const base = process.env.GRANTGUARD_STORAGE__queueServiceUri!;
    const queue = new QueueClient(`${base}/devhost-trial`, credential);
    const poison = new QueueClient(`${base}/devhost-trial-poison`, credential);
    await queue.createIfNotExists();
    for (let n = 0; n < 8; n++) await queue.sendMessage(Buffer.from(JSON.stringify({ n })).toString("base64"));
    const seen: { n: number; dequeueCount: number }[] = [];
    let running = 0;
    let peak = 0;
    const host = new DevHost((log) => hostLogs.push(log), {
      queues: { batchSize: 2, newBatchThreshold: 1, maxDequeueCount: 3, visibilityTimeoutMs: 0, maxPollingIntervalMs: 100 },
      registrations: [
        {
          name: "trial",
          trigger: "storageQueue",
          queueName: "devhost-trial",
          connection: "GRANTGUARD_STORAGE",
          handler: async (message, context) => {
            running += 1;
            peak = Math.max(peak, running);
            const { n } = message as { n: number };
            const dequeueCount = Number(context.triggerMetadata?.dequeueCount);
            seen.push({ n, dequeueCount });
            await new Promise((resolve) => setTimeout(resolve, 40));
            running -= 1;
            if (n === 0 || (n === 1 && dequeueCount === 1)) throw new Error(`message ${n} fails`);
          },
        },
      ],
    });
    await host.start();
    host.startQueues();
    try {
      const until = Date.now() + 20_000;
      while (Date.now() < until && !((await poison.exists()) && (await poison.peekMessages()).peekedMessageItems.length > 0)) await new Promise((resolve) => setTimeout(resolve, 100));
      await host.queuesSettled();
    } finally {
      await host.stop();
    }
    expect(seen.filter((s) => s.n === 0).map((s) => s.dequeueCount)).toEqual([1, 2, 3]);
    expect(seen.filter((s) => s.n === 1).map((s) => s.dequeueCount)).toEqual([1, 2]);
    expect(seen.filter((s) => s.n >= 2).every((s) => s.dequeueCount === 1)).toBe(true);
    expect(new Set(seen.map((s) => s.n))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7]));
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
    const [poisoned] = (await poison.receiveMessages()).receivedMessageItems;
    expect(JSON.parse(Buffer.from(poisoned!.messageText, "base64").toString("utf8"))).toEqual({ n: 0 });
    expect((await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toEqual([]);
  });
});
