import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import type { Runtime } from "../../shared/runtime.js";
import type { Alert } from "../../shared/response/alert.js";
import { rearmRevocation } from "../../shared/usecases/restoreAssignment.js";
import { WebhookReceiver } from "../../local/webhookReceiver.js";
import { fixture, readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// Responding safely, through the real SDKs against the simulator and Azurite, with alerts sent to
// a local receiver that checks every signature.

const GUEST = "bbbbbbbb-0000-4000-8000-000000000002";
const RG = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app";
const GUEST_OWNER = `${RG}/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001`;
const OWNER = "/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const SECRET = "a-test-secret-that-is-long-enough-0123456789";
const PACK = `${fileURLToPath(new URL("../../policies", import.meta.url))},${fileURLToPath(new URL("../../local/demo/revoke-pack", import.meta.url))}`;

let azure: TestAzure;
let receiver: WebhookReceiver;
beforeAll(async () => {
  azure = await startTestAzure();
  receiver = new WebhookReceiver({ secret: SECRET });
  await receiver.start();
});
afterAll(async () => {
  await receiver?.stop();
  await azure?.stop();
});
beforeEach(async () => {
  azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
  receiver.reset();
});

const runtimeWith = (settings: Record<string, string> = {}) =>
  azure.runtime({ GRANTGUARD_POLICIES_DIR: PACK, GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"), GRANTGUARD_WEBHOOK_SECRET: SECRET, GRANTGUARD_ALERT_RETRY_BASE_SECONDS: "0", ...settings });

const writeEvent = async (assignmentId: string, id: string) => {
  const base = await readFixture<Record<string, unknown> & { data: Record<string, unknown> }>("events/guest-owner-write.json");
  return { ...base, id, subject: assignmentId, data: { ...base.data, resourceUri: assignmentId } };
};

/** Alerts the receiver accepted (signature verified), by the policy they are about. */
function alertsFor(policyId: string): Alert[] {
  return receiver.uniqueDeliveries().flatMap((d) => (d.body as { alerts: Alert[] }).alerts).filter((a) => a.policyId === policyId);
}

function grantguardBin(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/grantguard.js", ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

async function drain(runtime: Runtime, rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const report = await runtime.dispatchAlerts();
    if (report.retrying === 0) return;
  }
}

describe("revocation", () => {
  it("in enforce mode removes a guest's Owner grant in one delivery, backs it up, alerts with a valid signature, and restore brings the identical assignment back", async () => {
    const runtime = await runtimeWith({ GRANTGUARD_MODE: "enforce" });
    const before = structuredClone(azure.local.simulator.state.assignments.get(GUEST_OWNER.toLowerCase())!);
    const outcome = await runtime.judgeGrantEvent(await writeEvent(GUEST_OWNER, "enforce-1"));

    expect(outcome.status === "judged" && outcome.revocation?.status).toBe("deleted");
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(false);
    const [backup] = await runtime.services.revocations.list();
    // The audit history says what happened to the event.
    expect((await runtime.services.ledger.list()).find((r) => r.eventId === "enforce-1")?.reason).toContain(`revocation ${backup!.id}: deleted`);
    expect(backup).toMatchObject({ assignmentId: GUEST_OWNER, assignmentName: before.name, scope: before.properties.scope, principalId: GUEST, principalType: "User", roleDefinitionId: before.properties.roleDefinitionId, condition: null, description: null, status: "deleted" });
    const [alert] = alertsFor("demo-revoke-guest-privileged");
    expect(alert).toMatchObject({ transition: "opened", mode: "enforce", response: { kind: "revoked", backupId: backup!.id }, grantedBy: "ada@contoso.com" });
    expect(receiver.received.every((r) => r.verified === true)).toBe(true);
    const [finding] = (await runtime.services.findings.list()).filter((f) => f.policyId === "demo-revoke-guest-privileged");
    expect(finding).toMatchObject({ status: "resolved", responseKind: "revoked", backupId: backup!.id, resolution: `revoked by grantguard (backup ${backup!.id})` });

    const env = { GRANTGUARD_TABLE_ENDPOINT: runtime.config.tableEndpoint, GRANTGUARD_REVOCATIONS_TABLE: runtime.config.response.revocationsTable };
    const restored = await grantguardBin(["restore", backup!.id, "--reason", "Fabrikam contract renewed, approved in CAB-42"], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`restored ${GUEST_OWNER}`);
    const after = azure.local.simulator.state.assignments.get(GUEST_OWNER.toLowerCase())!;
    expect({ id: after.id, name: after.name, ...after.properties, createdOn: null, updatedOn: null, createdBy: null, updatedBy: null }).toEqual({ id: before.id, name: before.name, ...before.properties, createdOn: null, updatedOn: null, createdBy: null, updatedBy: null });
    expect((await grantguardBin(["restore", backup!.id, "--reason", "Fabrikam contract renewed, approved in CAB-42"], env)).stdout).toContain("already restored");
    expect((await runtime.services.revocations.get(backup!.id))).toMatchObject({ status: "restored", restoreReason: "Fabrikam contract renewed, approved in CAB-42", restoredBy: expect.any(String) });

    // The restored grant's own write event must not take it away again.
    const again = await runtime.judgeGrantEvent(await writeEvent(GUEST_OWNER, "after-restore"));
    expect(again.status === "judged" && again.open.find((f) => f.policyId === "demo-revoke-guest-privileged")?.responseDetail).toMatch(/a person restored this assignment/);
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(true);
  });

  it("in audit mode (the default) deletes nothing and alerts what it would have revoked", async () => {
    const runtime = await runtimeWith();
    const outcome = await runtime.judgeGrantEvent(await writeEvent(GUEST_OWNER, "audit-1"));
    expect(outcome.status === "judged" && outcome.revocation).toBeNull();
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(true);
    expect(azure.local.simulator.requests.some((r) => r.route === "arm.roleAssignments.delete")).toBe(false);
    expect(alertsFor("demo-revoke-guest-privileged")[0]).toMatchObject({ mode: "audit", response: { kind: "wouldRevoke", detail: expect.stringContaining("GRANTGUARD_MODE=enforce") } });
  });

  it("honours Retry-After when ARM throttles the delete, then revokes", async () => {
    const runtime = await runtimeWith({ GRANTGUARD_MODE: "enforce" });
    azure.local.simulator.faults.add({ route: "arm.roleAssignments.delete", status: 429, retryAfterSeconds: 1, count: 1 });
    const outcome = await runtime.judgeGrantEvent(await writeEvent(GUEST_OWNER, "throttled"));
    expect(outcome.status === "judged" && outcome.revocation?.status).toBe("deleted");
    expect(azure.local.simulator.requests.filter((r) => r.route === "arm.roleAssignments.delete").map((r) => r.status)).toEqual([429, 200]);
  });

  it("never deletes a protected principal's assignment", async () => {
    const runtime = await runtimeWith({ GRANTGUARD_MODE: "enforce", GRANTGUARD_PROTECTED_PRINCIPALS: `00000000-0000-0000-0000-000000000000, ${GUEST.toUpperCase()}` });
    const outcome = await runtime.judgeGrantEvent(await writeEvent(GUEST_OWNER, "protected"));
    expect(outcome.status === "judged" && outcome.open.find((f) => f.policyId === "demo-revoke-guest-privileged")).toMatchObject({ responseKind: "revocationBlocked", responseDetail: expect.stringContaining("GRANTGUARD_PROTECTED_PRINCIPALS") });
    expect(azure.local.simulator.requests.some((r) => r.route === "arm.roleAssignments.delete")).toBe(false);
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(true);
  });

  it("trips the blast-radius cap, stops every further delete with a critical alert, and revokes again once re-armed", async () => {
    const runtime = await runtimeWith({ GRANTGUARD_MODE: "enforce", GRANTGUARD_MAX_REVOCATIONS: "1" });
    const grants = [1, 2, 3].map((i) => azure.local.simulator.grant({ scope: `${RG}/providers/Microsoft.Web/sites/app${i}`, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" }, "aaaaaaaa-0000-4000-8000-000000000001"));
    const responses = [];
    for (const [i, g] of grants.entries()) {
      const outcome = await runtime.judgeGrantEvent(await writeEvent(g.id, `cap-${i}`));
      responses.push(outcome.status === "judged" ? outcome.open.find((f) => f.policyId === "demo-revoke-guest-privileged")?.responseKind : outcome.status);
    }
    expect(responses).toEqual(["revoked", "revocationBlocked", "revocationBlocked"]);
    expect(azure.local.simulator.requests.filter((r) => r.route === "arm.roleAssignments.delete")).toHaveLength(1);
    expect((await runtime.services.revocations.getBreaker()).tripped).toBe(true);
    expect(alertsFor("grantguard-revocation-cap")).toEqual([expect.objectContaining({ severity: "critical" })]);

    await rearmRevocation({ revocations: runtime.services.revocations, now: () => new Date() }, { reason: "reviewed the three grants with Fabrikam's admin", requestedBy: "secops@contoso.com" });
    const rearmed = await runtime.judgeGrantEvent(await writeEvent(grants[2]!.id, "cap-after-rearm"));
    expect(rearmed.status === "judged" && rearmed.revocation?.status).toBe("deleted");
  });
});

describe("alert delivery", () => {
  it("delivers every alert exactly once when the webhook fails for a while and then recovers", async () => {
    const runtime = await runtimeWith();
    receiver.failNext(4);
    const outcome = await runtime.judgeGrantEvent(await writeEvent(GUEST_OWNER, "flaky"));
    expect("error" in outcome.alerts || outcome.alerts.retrying > 0).toBe(true);
    await drain(runtime);
    const deliveries = await runtime.services.deliveries.list();
    const immediate = deliveries.filter((d) => d.status !== "digest");
    expect(immediate.every((d) => d.status === "delivered")).toBe(true);
    const accepted = receiver.uniqueDeliveries().map((r) => r.headers["x-grantguard-idempotency-key"]);
    expect(accepted.length).toBe(immediate.length);
    expect(new Set(accepted).size).toBe(accepted.length);
    expect(receiver.received.filter((r) => r.status === 500)).toHaveLength(4);
  });

  it("shows an alert that keeps failing as failed, with its last error", async () => {
    const runtime = await runtimeWith({ GRANTGUARD_ALERT_MAX_ATTEMPTS: "2" });
    receiver.failNext(1_000, 503);
    await runtime.judgeGrantEvent(await writeEvent(GUEST_OWNER, "down"));
    await drain(runtime);
    const failed = (await runtime.services.deliveries.list()).filter((d) => d.status === "failed");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]).toMatchObject({ attempts: 2, lastError: expect.stringContaining("HTTP 503") });
    // …and the command line shows it to an operator.
    const listed = await grantguardBin(["alerts", "list", "--status", "failed"], { GRANTGUARD_TABLE_ENDPOINT: runtime.config.tableEndpoint, GRANTGUARD_ALERTS_TABLE: runtime.config.response.alertsTable });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/webhook\s+failed\s+2\s+.*HTTP 503/);
    expect(listed.stdout).toMatch(/FAILED \(they gave up after GRANTGUARD_ALERT_MAX_ATTEMPTS tries\)/);
  });

  it("still delivers the alert when the process dies between writing the finding and sending", async () => {
    const settings = { GRANTGUARD_POLICIES_DIR: PACK, GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"), GRANTGUARD_WEBHOOK_SECRET: SECRET, GRANTGUARD_FINDINGS_TABLE: `died${process.pid}`, GRANTGUARD_ALERTS_TABLE: `diedalerts${process.pid}`, GRANTGUARD_REVOCATIONS_TABLE: `diedrev${process.pid}`, GRANTGUARD_EVENTS_TABLE: `diedevents${process.pid}` };
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(await mkdtemp(join(tmpdir(), "gg-died-")), "event.json");
    await writeFile(file, JSON.stringify(await writeEvent(GUEST_OWNER, "died")));
    const died = await new Promise<{ signal: NodeJS.Signals | null }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "test/support/judgeThenDie.ts", file], { env: { ...process.env, ...settings }, stdio: "ignore" });
      child.on("exit", (_code, signal) => resolve({ signal }));
    });
    expect(died.signal).toBe("SIGKILL");
    expect(receiver.received).toHaveLength(0);

    const survivor = await azure.runtime(settings);
    const report = await survivor.dispatchAlerts();
    expect(report.delivered).toBeGreaterThan(0);
    expect(alertsFor("guest-privileged-role")).toHaveLength(1);
  });

  it("collects low-severity alerts for the digest and sends them as one message per channel", async () => {
    const runtime = await runtimeWith();
    await runtime.judgeGrantEvent(await writeEvent(GUEST_OWNER, "digest"));
    const waiting = (await runtime.services.deliveries.list()).filter((d) => d.status === "digest");
    expect(waiting.length).toBeGreaterThan(0);
    const before = receiver.uniqueDeliveries().length;
    expect(await runtime.sendDigest()).toEqual({ sent: 1, alerts: waiting.length });
    const digest = receiver.uniqueDeliveries().slice(before);
    expect(digest).toHaveLength(1);
    expect((digest[0]!.body as { alerts: Alert[] }).alerts.every((a) => a.severity === "low")).toBe(true);
  });
});
