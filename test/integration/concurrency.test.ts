import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import type { Runtime } from "../../shared/runtime.js";
import type { Alert } from "../../shared/response/alert.js";
import { restoreAssignment } from "../../shared/usecases/restoreAssignment.js";
import { WebhookReceiver } from "../../local/webhookReceiver.js";
import { DevHost } from "../../local/devhost.js";
import { LocalEventGrid } from "../../local/eventGrid.js";
import { fixture, readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// Many instances judge at once and Event Grid neither orders nor deduplicates: these tests run
// several runtimes (each an instance with its own caches) over the same tables, through the real
// SDK clients against the simulator and Azurite, and fire deliveries at them concurrently.

const GUEST = "bbbbbbbb-0000-4000-8000-000000000002";
const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const RG = `${SUB}/resourceGroups/rg-app`;
const GUEST_OWNER = `${RG}/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001`;
const OWNER = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`;
const SECRET = "a-test-secret-that-is-long-enough-0123456789";
const PACK = `${fileURLToPath(new URL("../../policies", import.meta.url))},${fileURLToPath(new URL("../../local/demo/revoke-pack", import.meta.url))}`;

let azure: TestAzure;
let receiver: WebhookReceiver;
let run = 0;
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
  run += 1;
});

/** `count` instances of the function app sharing one set of tables, as in Azure. */
async function instances(count: number, settings: Record<string, string> = {}): Promise<Runtime[]> {
  const tables = `c${process.pid}x${run}`;
  const shared = {
    GRANTGUARD_POLICIES_DIR: PACK,
    GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"),
    GRANTGUARD_WEBHOOK_SECRET: SECRET,
    GRANTGUARD_ALERT_RETRY_BASE_SECONDS: "0",
    GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]),
    GRANTGUARD_FINDINGS_TABLE: `findings${tables}`,
    GRANTGUARD_EVENTS_TABLE: `events${tables}`,
    GRANTGUARD_ALERTS_TABLE: `alerts${tables}`,
    GRANTGUARD_REVOCATIONS_TABLE: `revocations${tables}`,
    ...settings,
  };
  return Promise.all(Array.from({ length: count }, () => azure.runtime(shared)));
}

async function event(kind: "write" | "delete", assignmentId: string, id: string, eventTime = new Date().toISOString()) {
  const base = await readFixture<Record<string, unknown> & { data: Record<string, unknown> }>("events/guest-owner-write.json");
  return {
    ...base,
    id,
    subject: assignmentId,
    eventTime,
    eventType: kind === "write" ? "Microsoft.Resources.ResourceWriteSuccess" : "Microsoft.Resources.ResourceDeleteSuccess",
    data: { ...base.data, resourceUri: assignmentId, operationName: `Microsoft.Authorization/roleAssignments/${kind}` },
  };
}

/** Every alert the receiver got (signature verified), duplicates by idempotency key included. */
function alertsReceived(): Alert[] {
  return receiver.received.filter((r) => r.status >= 200 && r.status < 300 && r.verified).flatMap((r) => (r.body as { alerts: Alert[] }).alerts);
}

/** How often each (finding, transition) was announced. */
function announcements(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of alertsReceived()) counts.set(`${a.findingId}|${a.transition}`, (counts.get(`${a.findingId}|${a.transition}`) ?? 0) + 1);
  return counts;
}

const settle = (runtimes: readonly Runtime[]) => Promise.all(runtimes.map((r) => r.dispatchAlerts()));

describe("concurrent deliveries", () => {
  it("announce every state change of a finding exactly once when one assignment's events reach several instances at once", async () => {
    const apps = await instances(3);
    // Slow Graph a little, so that every delivery reads what is stored before any of them writes.
    azure.local.simulator.faults.add({ route: "graph.*", latencyMs: 300, count: 9 });
    const deliveries = await Promise.all(Array.from({ length: 9 }, async (_, i) => apps[i % 3]!.judgeGrantEvent(await event("write", GUEST_OWNER, `dup-${i % 3}`, `2026-11-22T10:00:0${i % 3}.000Z`))));
    await settle(apps);
    expect(deliveries.every((d) => d.status === "judged")).toBe(true);
    const counts = announcements();
    expect(counts.size).toBeGreaterThan(3);
    expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
    const stored = await apps[0]!.services.findings.list({ assignmentId: GUEST_OWNER });
    expect(stored.every((f) => f.status === "open")).toBe(true);
    expect(new Set(stored.map((f) => f.id)).size).toBe(stored.length);
  });

  it("make one backup and one revocation, announced once, in enforce mode", async () => {
    const apps = await instances(3, { GRANTGUARD_MODE: "enforce" });
    azure.local.simulator.faults.add({ route: "graph.*", latencyMs: 300, count: 6 });
    await Promise.all(Array.from({ length: 6 }, async (_, i) => apps[i % 3]!.judgeGrantEvent(await event("write", GUEST_OWNER, `enforce-${i}`, `2026-11-22T10:00:0${i}.000Z`))));
    await settle(apps);
    const backups = await apps[0]!.services.revocations.list();
    expect(backups.map((b) => [b.assignmentId, b.status])).toEqual([[GUEST_OWNER, "deleted"]]);
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(false);
    const revoked = alertsReceived().filter((a) => a.policyId === "demo-revoke-guest-privileged");
    expect(revoked).toEqual([expect.objectContaining({ response: { kind: "revoked", backupId: backups[0]!.id } })]);
    expect([...announcements().entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect((await apps[0]!.services.findings.list({ assignmentId: GUEST_OWNER })).every((f) => f.status === "resolved" && f.backupId === backups[0]!.id)).toBe(true);
  });

  it("leave no open finding when a write is still being judged while a later delete is judged", async () => {
    const [writer, deleter] = await instances(2);
    // The write's instance reads the assignment, then waits on Graph; meanwhile the assignment is deleted and its delete event judged.
    azure.local.simulator.faults.add({ route: "graph.*", latencyMs: 600, count: 1 });
    const judging = writer!.judgeGrantEvent(await event("write", GUEST_OWNER, "race-write", "2026-11-22T10:00:00.000Z"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    azure.local.simulator.revoke(GUEST_OWNER, ADA);
    const deleted = await deleter!.judgeGrantEvent(await event("delete", GUEST_OWNER, "race-delete", "2026-11-22T10:00:05.000Z"));
    const written = await judging;
    expect(deleted.status).toBe("resolved");
    expect(written.status).toBe("assignmentGone");
    expect((await writer!.services.findings.list({ assignmentId: GUEST_OWNER })).filter((f) => f.status !== "resolved")).toEqual([]);
  });

  it("leave no open finding when the delete is judged before the write that preceded it", async () => {
    const [app] = await instances(1);
    azure.local.simulator.revoke(GUEST_OWNER, ADA);
    await app!.judgeGrantEvent(await event("delete", GUEST_OWNER, "late-delete", "2026-11-22T10:00:05.000Z"));
    const write = await app!.judgeGrantEvent(await event("write", GUEST_OWNER, "early-write", "2026-11-22T10:00:00.000Z"));
    expect(write.status).toBe("assignmentGone");
    expect((await app!.services.findings.list({ assignmentId: GUEST_OWNER })).filter((f) => f.status !== "resolved")).toEqual([]);
  });

  it("hold the blast-radius cap exactly and send one breaker alert when ten revocations race", async () => {
    const apps = await instances(3, { GRANTGUARD_MODE: "enforce", GRANTGUARD_MAX_REVOCATIONS: "3" });
    const grants = Array.from({ length: 10 }, (_, i) => azure.local.simulator.grant({ scope: `${RG}/providers/Microsoft.Web/sites/app${i}`, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" }, ADA));
    await Promise.all(grants.map(async (g, i) => apps[i % 3]!.judgeGrantEvent(await event("write", g.id, `cap-${i}`))));
    await settle(apps);
    const backups = await apps[0]!.services.revocations.list();
    expect(backups.filter((b) => b.status === "deleted")).toHaveLength(3);
    expect(backups.every((b) => b.status === "deleted" || b.status === "blocked")).toBe(true);
    // The seven others are kept, and say why: the cap (before a backup, once the breaker is seen tripped).
    const demo = (await apps[0]!.services.findings.list()).filter((f) => f.policyId === "demo-revoke-guest-privileged" && grants.some((g) => g.id === f.assignmentId));
    expect(demo.filter((f) => f.responseKind === "revocationBlocked" && /GRANTGUARD_MAX_REVOCATIONS/.test(f.responseDetail ?? ""))).toHaveLength(7);
    expect(grants.filter((g) => !azure.local.simulator.state.assignments.has(g.id.toLowerCase()))).toHaveLength(3);
    expect(alertsReceived().filter((a) => a.policyId === "grantguard-revocation-cap")).toHaveLength(1);
    expect((await apps[0]!.services.revocations.getBreaker()).tripped).toBe(true);
  });

  it("resolve every finding when the delete event spells the id in other casing, and re-announce nothing for a lower-case write", async () => {
    const [app] = await instances(1);
    const first = await app!.judgeGrantEvent(await event("write", GUEST_OWNER, "cased-1", "2026-11-22T10:00:00.000Z"));
    await settle([app!]);
    const opened = first.status === "judged" ? first.open.length : 0;
    expect(opened).toBeGreaterThan(3);
    const before = await app!.services.findings.list({ assignmentId: GUEST_OWNER });

    const lower = GUEST_OWNER.toLowerCase();
    await app!.judgeGrantEvent(await event("write", lower, "cased-2", "2026-11-22T10:01:00.000Z"));
    await settle([app!]);
    const after = await app!.services.findings.list({ assignmentId: lower });
    expect(after.map((f) => [f.id, f.firstSeen])).toEqual(before.map((f) => [f.id, f.firstSeen]));
    expect(alertsReceived().filter((a) => a.transition === "opened")).toHaveLength(opened);

    azure.local.simulator.revoke(GUEST_OWNER, ADA);
    const deleted = await app!.judgeGrantEvent(await event("delete", GUEST_OWNER.replace("/resourceGroups/", "/resourcegroups/").replace("Microsoft.Authorization", "microsoft.authorization"), "cased-3", "2026-11-22T10:02:00.000Z"));
    expect(deleted.status === "resolved" && deleted.resolved.length).toBe(opened);
    expect((await app!.services.findings.list({ assignmentId: GUEST_OWNER })).every((f) => f.status === "resolved")).toBe(true);
  });
});

describe("deliveries through the dev host, in parallel batches, shuffled, with duplicates", () => {
  it("end with each finding announced once, one backup, and no open finding after the later delete", async () => {
    const apps = await instances(3, { GRANTGUARD_MODE: "enforce" });
    let next = 0;
    // Three instances behind one endpoint: the host runs a batch's events in parallel, each on the next instance.
    const host = new DevHost(() => undefined, { registrations: [{ name: "judgeGrantEvent", trigger: "eventGrid", handler: async (e) => void (await apps[next++ % apps.length]!.judgeGrantEvent(e)) }] });
    await host.start();
    try {
      const grants = [1, 2, 3, 4].map((i) => azure.local.simulator.grant({ scope: `${RG}/providers/Microsoft.Web/sites/batch${i}`, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" }, ADA));
      const writes = await Promise.all(grants.map((g, i) => event("write", g.id, `batch-write-${i}`, `2026-11-22T11:00:0${i}.000Z`)));
      // Bob's Reader grant is harmless; its write and a later delete arrive shuffled together.
      const reader = azure.local.simulator.grant({ scope: RG, roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`, principalId: GUEST, principalType: "User" }, ADA);
      azure.local.simulator.revoke(reader.id, ADA);
      const readerEvents = [await event("write", reader.id, "reader-write", "2026-11-22T11:00:10.000Z"), await event("delete", reader.id, "reader-delete", "2026-11-22T11:00:11.000Z")];
      const grid = new LocalEventGrid({ endpoint: host.eventGridUrl("judgeGrantEvent"), retryDelaysMs: [200], maxAttempts: 4 });
      await grid.deliverConcurrently([...writes, ...readerEvents], { concurrency: 4, duplicates: 2, batchSize: 3, seed: 11 });
      await grid.settled();
      await settle(apps);
      expect(grid.outcomes.every((o) => o.status === "delivered")).toBe(true);
      const backups = await apps[0]!.services.revocations.list();
      expect(backups.map((b) => b.assignmentId).sort()).toEqual(grants.map((g) => g.id).sort());
      expect([...announcements().entries()].filter(([, n]) => n > 1)).toEqual([]);
      expect(alertsReceived().filter((a) => a.policyId === "demo-revoke-guest-privileged" && a.response.kind === "revoked")).toHaveLength(4);
      expect((await apps[0]!.services.findings.list()).filter((f) => f.status !== "resolved")).toEqual([]);
    } finally {
      await host.stop();
    }
  });
});

describe("a revocation ARM refuses", () => {
  it("is recorded on the findings with ARM's reason and alerted, and the event is not retried", async () => {
    const [app] = await instances(1, { GRANTGUARD_MODE: "enforce" });
    azure.local.simulator.faults.add({ route: "arm.roleAssignments.delete", status: 403, count: 1 });
    const outcome = await app!.judgeGrantEvent(await event("write", GUEST_OWNER, "forbidden-delete"));
    await settle([app!]);
    expect(outcome.status === "judged" && outcome.revocation?.status).toBe("failed");
    const [finding] = (await app!.services.findings.list({ assignmentId: GUEST_OWNER })).filter((f) => f.policyId === "demo-revoke-guest-privileged");
    expect(finding).toMatchObject({ status: "open", responseKind: "revocationFailed", responseDetail: expect.stringContaining("403") });
    expect(alertsReceived().filter((a) => a.policyId === "demo-revoke-guest-privileged")).toEqual([expect.objectContaining({ response: { kind: "revocationFailed", detail: expect.stringContaining("403") } })]);
    expect((await app!.services.ledger.list()).find((r) => r.eventId === "forbidden-delete")).toMatchObject({ outcome: "judged", reason: expect.stringContaining("failed") });
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(true);
  });
});

describe("a restore that dies after ARM re-created the assignment", () => {
  it("is not revoked again by the write event the re-creation causes, and finishes when asked again", async () => {
    const [app] = await instances(1, { GRANTGUARD_MODE: "enforce" });
    const revoked = await app!.judgeGrantEvent(await event("write", GUEST_OWNER, "to-restore"));
    const backupId = revoked.status === "judged" ? revoked.revocation!.id : "";
    const writer = app!.services.writer;
    const dying = { ...writer, create: async (...args: Parameters<typeof writer.create>) => {
      await writer.create(...args);
      throw new Error("the process dies after the PUT");
    } };
    const request = { reason: "Fabrikam contract renewed, approved in CAB-42", requestedBy: "secops@contoso.com" };
    await expect(restoreAssignment({ revocations: app!.services.revocations, writer: dying, now: () => new Date() }, backupId, request)).rejects.toThrow("dies after the PUT");
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(true);

    const rewritten = await app!.judgeGrantEvent(await event("write", GUEST_OWNER, "restored-write"));
    expect(rewritten.status === "judged" && rewritten.open.find((f) => f.policyId === "demo-revoke-guest-privileged")).toMatchObject({ responseKind: "revocationBlocked", responseDetail: expect.stringContaining("restored") });
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(true);

    const finished = await restoreAssignment({ revocations: app!.services.revocations, writer, now: () => new Date() }, backupId, request);
    expect(finished).toMatchObject({ status: "restored", revocation: { status: "restored", restoredBy: "secops@contoso.com" } });
  });
});
