import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FindingsStore } from "../../shared/findings/store.js";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { sweepTenant } from "../../shared/usecases/sweep.js";
import { snapshotInventory } from "../../shared/usecases/sweepSnapshot.js";
import { repeatedSmallTenant } from "../support/tenants.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// The sweep against Table Storage (Azurite) through the real SDK: conditional transactions of at
// most 100 per partition, nothing rewritten when nothing changed, and a run killed half-way.

const NOW = new Date("2026-12-01T00:00:00.000Z");
let azure: TestAzure;
beforeAll(async () => {
  azure = await startTestAzure();
});
afterAll(async () => {
  await azure?.stop();
});

async function sweepOnce(store: FindingsStore, snapshot = undefined as Awaited<ReturnType<typeof readTenantSnapshot>> | undefined) {
  const tenant = snapshot ?? (await readTenantSnapshot(fixture("tenants/sweep.json")));
  const runtime = await azure.runtime();
  const { inventory } = await snapshotInventory(tenant, { now: NOW, lookbackDays: 90 });
  return sweepTenant(inventory, { findings: store, policies: runtime.pack.policies, exemptions: runtime.pack.exemptions, now: NOW });
}

describe("the sweep on Table Storage", () => {
  it("writes what it finds once, and a second sweep of a steady tenant writes nothing and announces nothing", async () => {
    const store = (await azure.runtime()).services.findings;
    const first = await sweepOnce(store);
    expect(first.findingWrites).toBeGreaterThan(10);
    expect((await store.list({ alertPending: true })).length).toBe(first.findingWrites);
    const stored = await store.list();
    const second = await sweepOnce(store);
    expect(second).toMatchObject({ findingWrites: 0, opened: 0, resolved: 0, holding: first.holding });
    expect(await store.list()).toEqual(stored);
  });

  it("killed half-way through a partition's transactions, is run again and ends exactly where a clean run ends", async () => {
    // Sixty copies of the small tenant put hundreds of findings in one partition: several transactions.
    const tenant = await repeatedSmallTenant(60);
    const clean = (await azure.runtime()).services.findings;
    await sweepOnce(clean, tenant);

    const store = (await azure.runtime()).services.findings;
    let transactions = 0;
    const dying: FindingsStore = {
      list: (options) => store.list(options),
      read: (id) => store.read(id),
      commit: (record, change) => store.commit(record, change),
      readPartition: (partition) => store.readPartition(partition),
      listPartitions: () => store.listPartitions(),
      listPendingAlerts: (options) => store.listPendingAlerts(options),
      claimAlerts: (pending, until) => store.claimAlerts(pending, until),
      clearAlertsPending: (pending) => store.clearAlertsPending(pending),
      commitPartition: async (record, findings) => {
        // The first 100 are written, then the process dies.
        if (findings.length > 100 && transactions++ === 0) {
          await store.commitPartition(record, findings.slice(0, 100));
          throw new Error("the process dies between two transactions");
        }
        return store.commitPartition(record, findings);
      },
    };
    await expect(sweepOnce(dying, tenant)).rejects.toThrow("dies between two transactions");
    expect((await store.list()).length).toBe(100);
    await sweepOnce(store, tenant);
    const strip = (fs: Awaited<ReturnType<FindingsStore["list"]>>) => fs.map(({ lastEventId: _e, ...f }) => f).sort((a, b) => a.id.localeCompare(b.id));
    expect(strip(await store.list())).toEqual(strip(await clean.list()));
  });
});
