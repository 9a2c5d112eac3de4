import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { loadPolicyPack } from "../../shared/policy/load.js";
import { evaluateSnapshot } from "../../shared/usecases/evaluateSnapshot.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// `grantguard snapshot export` run as a user runs it (the bin, DefaultAzureCredential), against
// the simulator: the snapshot it writes must judge exactly like the tenant it came from.

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";

function grantguardBin(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/grantguard.js", ...args], { env: process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

let azure: TestAzure;
beforeAll(async () => {
  azure = await startTestAzure("tenants/small.json", { pageSize: 4 });
});
afterAll(async () => {
  await azure?.stop();
});

describe("grantguard snapshot export", () => {
  it("writes a snapshot that evaluates exactly like the live tenant", async () => {
    const out = join(await mkdtemp(join(tmpdir(), "gg-export-")), "exported.json");
    const result = await grantguardBin(["snapshot", "export", "--scope", SUB, "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("exported 9 role assignments");
    expect(result.stderr).toContain("1 assigned principal(s) no longer exist");
    expect(result.stderr).not.toContain("PIM could not be read");

    const [exported, original, pack] = await Promise.all([readTenantSnapshot(out), readTenantSnapshot(fixture("tenants/small.json")), loadPolicyPack(fixture("../../policies"))]);
    expect(exported.tenantId).toBe(original.tenantId);
    // ARM's mirror instance of every direct assignment, and no PIM request behind any of them.
    expect(exported.roleAssignmentScheduleInstances).toHaveLength(9);
    expect(exported.roleAssignmentScheduleRequests).toEqual([]);
    const verdicts = async (snapshot: typeof original) =>
      (await evaluateSnapshot(snapshot, pack, { now: new Date("2026-11-22T00:00:00Z") })).findings.map((f) => `${f.assignmentName} ${f.policyId} ${f.reason}`).sort();
    expect(await verdicts(exported)).toEqual(await verdicts(original));
  });

  it("leaves PIM out of the snapshot, and says so, when PIM cannot be read", async () => {
    azure.local.simulator.faults.add({ route: "arm.roleAssignmentScheduleInstances.list", status: 403 });
    const out = join(await mkdtemp(join(tmpdir(), "gg-export-")), "exported.json");
    const result = await grantguardBin(["snapshot", "export", "--scope", SUB, "--out", out]);
    azure.local.simulator.faults.clear();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("PIM could not be read, so the snapshot says nothing about PIM");
    expect((await readTenantSnapshot(out)).roleAssignmentScheduleInstances).toBeUndefined();
  });

  it("exits 64 without a scope and 3 when Azure refuses", async () => {
    expect((await grantguardBin(["snapshot", "export"])).code).toBe(64);
    azure.local.simulator.faults.add({ route: "arm.roleAssignments.list", status: 403, count: 1 });
    const refused = await grantguardBin(["snapshot", "export", "--scope", SUB]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^grantguard: Azure refused: your identity lacks .*HTTP 403 from Azure Resource Manager/);
  });
});
