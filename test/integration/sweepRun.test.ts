import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import type { Finding } from "../../shared/model/finding.js";
import type { FindingsStore } from "../../shared/findings/store.js";
import { getRuntime, type Runtime } from "../../shared/runtime.js";
import { judgePartition, partitionInventory } from "../../shared/usecases/sweep.js";
import { snapshotInventory } from "../../shared/usecases/sweepSnapshot.js";
import { parseShardMessage, sweepShard, type SweepRunRecord } from "../../shared/usecases/sweepRun.js";
import { DevHost, type HostLog } from "../../local/devhost.js";
import { functionRegistrations, type FunctionRegistration } from "../../functions/index.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// The live sweep end to end: the timer fired through the dev host's admin API, shards on Azurite's
// queue taken by the dev host's queue trigger, Resource Graph, ARM, Graph and Log Analytics read
// through the real SDK clients from the simulator, findings committed to Azurite's tables.

let azure: TestAzure;
beforeAll(async () => {
  azure = await startTestAzure("tenants/sweep.json");
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
  const snapshot = await readTenantSnapshot(fixture("tenants/sweep.json"));
  const { inventory } = await snapshotInventory(snapshot, { now, lookbackDays: runtime.config.sweep.lookbackDays });
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
      expect(stored.some((f) => f.scope === "/")).toBe(true);
      expect(stored.some((f) => f.scope.toLowerCase().includes("/managementgroups/"))).toBe(true);
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
});
