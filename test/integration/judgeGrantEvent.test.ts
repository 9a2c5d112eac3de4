import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { evaluateSnapshot } from "../../shared/usecases/evaluateSnapshot.js";
import { fixture, readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// The grant path through the real SDK clients (ARM, Graph, Tables, managed identity) against
// the simulator and Azurite.

const GUEST_OWNER = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001";

let azure: TestAzure;
beforeAll(async () => {
  azure = await startTestAzure();
});
afterAll(async () => {
  await azure?.stop();
});
beforeEach(async () => {
  azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
});

describe("judgeGrantEvent against the local Azure", () => {
  it("records one explained finding for a guest granted Owner, whatever the number of deliveries", async () => {
    const runtime = await azure.runtime();
    const event = await readFixture("events/guest-owner-write.json");
    for (let i = 0; i < 3; i++) await runtime.judgeGrantEvent(structuredClone(event));

    const findings = await runtime.services.findings.list();
    // One finding per matching policy, never more, however often the event comes.
    expect(findings.map((f) => f.policyId).sort()).toEqual(["delegation-without-description-or-condition", "guest-privileged-role", "pim-assigned-outside-pim", "privileged-role-direct-to-user", "role-can-delegate-or-elevate"]);
    const guest = findings.find((f) => f.policyId === "guest-privileged-role");
    expect(guest).toMatchObject({
      severity: "high",
      status: "open",
      action: "alert",
      assignmentId: GUEST_OWNER,
      principalId: "bbbbbbbb-0000-4000-8000-000000000002",
      principalType: "User",
      principalName: "Gil Guest (Fabrikam)",
      roleName: "Owner",
      scope: "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app",
      scopeLevel: "resourceGroup",
      subscriptionId: "11111111-1111-4111-8111-111111111111",
      matchedFacts: { "principal.guest": true, "role.privileged": true },
      grantedBy: "ada@contoso.com",
      grantedByObjectId: "aaaaaaaa-0000-4000-8000-000000000001",
      grantedByIpAddress: "203.0.113.7",
      firstSeen: "2026-11-21T09:30:00.000Z",
      lastSeen: "2026-11-21T09:30:00.000Z",
    });
    expect(guest!.reason).toContain("principal.guest = true");
  });

  it("records no finding for a member granted Reader on a resource group", async () => {
    const runtime = await azure.runtime();
    const outcome = await runtime.judgeGrantEvent(await readFixture("events/member-reader-write.json"));
    expect(outcome.status).toBe("judged");
    expect(await runtime.services.findings.list()).toEqual([]);
  });

  it("resolves the open findings of an assignment when its delete event arrives", async () => {
    const runtime = await azure.runtime();
    await runtime.judgeGrantEvent(await readFixture("events/guest-owner-write.json"));
    azure.local.simulator.state.assignments.delete(GUEST_OWNER.toLowerCase());
    const outcome = await runtime.judgeGrantEvent(await readFixture("events/guest-owner-delete.json"));

    expect(outcome.status).toBe("resolved");
    const findings = await runtime.services.findings.list();
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) expect(finding).toMatchObject({ status: "resolved", resolution: "the role assignment was deleted", resolvedAt: "2026-11-21T09:30:00.000Z" });
    // A late redelivery of the write finds the assignment gone and does not reopen the findings.
    await runtime.judgeGrantEvent(await readFixture("events/guest-owner-write.json"));
    expect(new Set((await runtime.services.findings.list()).map((f) => f.status))).toEqual(new Set(["resolved"]));
  });

  it("records an assignment that ARM no longer has (404) as gone, without failing", async () => {
    const runtime = await azure.runtime();
    const outcome = await runtime.judgeGrantEvent(await readFixture("events/vanished-write.json"));
    expect(outcome.status).toBe("assignmentGone");
    const [record] = await runtime.services.ledger.list();
    expect(record).toMatchObject({ eventId: "e0000004-0000-4000-8000-000000000004", outcome: "assignmentGone" });
    expect(await runtime.services.findings.list()).toEqual([]);
  });

  it("honours Retry-After on a 429 from ARM and then judges the event", async () => {
    const runtime = await azure.runtime();
    azure.local.simulator.faults.add({ route: "arm.roleAssignments.get", status: 429, retryAfterSeconds: 1, count: 1 });
    const started = Date.now();
    const outcome = await runtime.judgeGrantEvent(await readFixture("events/guest-owner-write.json"));

    expect(outcome.status).toBe("judged");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const gets = azure.local.simulator.requests.filter((r) => r.route === "arm.roleAssignments.get").map((r) => r.status);
    expect(gets).toEqual([429, 200]);
  });

  it("fails the invocation when Graph keeps answering 503, writes no finding, and the ledger says the delivery is retried", async () => {
    const runtime = await azure.runtime();
    azure.local.simulator.faults.add({ route: "graph.directoryObjects.getByIds", status: 503 });
    await expect(runtime.judgeGrantEvent(await readFixture("events/guest-owner-write.json"))).rejects.toMatchObject({ statusCode: 503 });
    expect(azure.local.simulator.requests.filter((r) => r.route === "graph.directoryObjects.getByIds").length).toBeGreaterThan(1);
    expect(await runtime.services.findings.list()).toEqual([]);
    expect(await runtime.services.ledger.list()).toEqual([expect.objectContaining({ outcome: "failed", reason: expect.stringContaining("HTTP 503") })]);
  }, 30_000);

  it("reads each role definition from ARM once while it is cached", async () => {
    const runtime = await azure.runtime();
    await runtime.judgeGrantEvent(await readFixture("events/guest-owner-write.json"));
    await runtime.judgeGrantEvent(await readFixture("events/guest-owner-write.json"));
    const guids = azure.local.simulator.requests.filter((r) => r.route === "arm.roleDefinitions.get").map((r) => r.path.split("/").pop()!.toLowerCase());
    expect(guids.length).toBeGreaterThan(0);
    expect(guids.length).toBe(new Set(guids).size);
  });

  it("judges every fixture assignment in the event path as the snapshot what-if does", async () => {
    const runtime = await azure.runtime();
    const base = await readFixture<{ data: Record<string, unknown> } & Record<string, unknown>>("events/guest-owner-write.json");
    const snapshot = await readTenantSnapshot(fixture("tenants/small.json"));
    const whatIf = await evaluateSnapshot(snapshot, runtime.pack, { now: new Date() });
    const expected: Record<string, string[]> = Object.fromEntries(snapshot.roleAssignments.map((a) => [a.name, whatIf.findings.filter((f) => f.assignmentName === a.name).map((f) => f.policyId).sort()]));
    // Spot checks that the two paths are not both wrong.
    expect(expected["a0000003-0000-4000-8000-000000000003"]).toContain("workload-identity-privileged-broad-scope");
    expect(expected["a0000006-0000-4000-8000-000000000006"]).toEqual(["deleted-principal"]);
    expect(expected["a0000007-0000-4000-8000-000000000007"]).toContain("blocked-account-write-permissions");
    expect(expected["a0000009-0000-4000-8000-000000000009"]).toEqual([]);
    for (const [name, policies] of Object.entries(expected)) {
      const assignment = snapshot.roleAssignments.find((a) => a.name === name)!;
      const event = { ...structuredClone(base), id: `event-${name}`, subject: assignment.id, data: { ...base.data, resourceUri: assignment.id } };
      const outcome = await runtime.judgeGrantEvent(event);
      expect(outcome.status, name).toBe("judged");
      const found = outcome.status === "judged" ? outcome.open.map((f) => f.policyId).sort() : [];
      expect(found, name).toEqual(policies);
    }
  });
});
