import { beforeEach, describe, expect, it } from "vitest";
import { readTenantSnapshot } from "../../../shared/model/snapshot.js";
import { loadPolicies } from "../../../shared/policy/load.js";
import { SnapshotContext } from "../../../shared/facts/snapshotContext.js";
import { judgeGrantEvent, type JudgeDependencies } from "../../../shared/usecases/judgeGrantEvent.js";
import { FakeTenant, InMemoryFindingsStore, InMemoryLedger, revocationFakes } from "../../support/fakes.js";
import { fixture, readFixture } from "../../support/testAzure.js";

type EventJson = Record<string, unknown> & { data: Record<string, unknown> };
// The two policies these cases reason about; the whole pack is exercised elsewhere.
const policies = (await loadPolicies(fixture("../../policies"))).filter((p) => ["access-admin-without-condition", "privileged-role-above-resource-group"].includes(p.id));
const UAA_ASSIGNMENT = "/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.Authorization/roleAssignments/a0000004-0000-4000-8000-000000000004";

let tenant: FakeTenant;
let findings: InMemoryFindingsStore;
let ledger: InMemoryLedger;
let deps: JudgeDependencies;
beforeEach(async () => {
  tenant = new FakeTenant(await readTenantSnapshot(fixture("tenants/small.json")));
  findings = new InMemoryFindingsStore();
  ledger = new InMemoryLedger();
  const snapshot = await readTenantSnapshot(fixture("tenants/small.json"));
  deps = {
    roleAssignments: tenant.roleAssignments,
    roleDefinitions: tenant.roleDefinitions,
    principals: tenant.directory,
    findings,
    ledger,
    policies,
    exemptions: [],
    context: new SnapshotContext(snapshot),
    revocation: revocationFakes(),
    now: () => new Date("2026-11-22T00:00:00Z"),
  };
});

async function eventFor(assignmentId: string, id: string, time: string): Promise<EventJson> {
  const base = await readFixture<EventJson>("events/guest-owner-write.json");
  return { ...base, id, eventTime: time, subject: assignmentId, data: { ...base.data, resourceUri: assignmentId } };
}

describe("judgeGrantEvent", () => {
  it("keeps the earliest firstSeen and latest lastSeen whatever order events arrive in, and duplicates change nothing", async () => {
    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "late", "2026-11-21T12:00:00Z"), deps);
    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "early", "2026-11-21T08:00:00Z"), deps);
    const before = structuredClone(await findings.list());
    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "early", "2026-11-21T08:00:00Z"), deps);

    expect(before.map((f) => [f.policyId, f.firstSeen, f.lastSeen, f.lastEventId])).toEqual([
      ["access-admin-without-condition", "2026-11-21T08:00:00.000Z", "2026-11-21T12:00:00.000Z", "late"],
      ["privileged-role-above-resource-group", "2026-11-21T08:00:00.000Z", "2026-11-21T12:00:00.000Z", "late"],
    ]);
    expect(await findings.list()).toEqual(before);
  });

  it("resolves a finding whose policy no longer matches after the assignment changes", async () => {
    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "first", "2026-11-21T08:00:00Z"), deps);
    const key = UAA_ASSIGNMENT.toLowerCase();
    tenant.assignments.set(key, { ...tenant.assignments.get(key)!, condition: "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})))", conditionVersion: "2.0" });
    const outcome = await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "second", "2026-11-21T09:00:00Z"), deps);

    expect(outcome.status === "judged" && outcome.resolved.map((f) => [f.policyId, f.resolution])).toEqual([["access-admin-without-condition", "the policy no longer matches the assignment"]]);
    const statuses = Object.fromEntries((await findings.list()).map((f) => [f.policyId, f.status]));
    expect(statuses).toEqual({ "access-admin-without-condition": "resolved", "privileged-role-above-resource-group": "open" });
  });

  it("still judges an assignment whose custom role was deleted", async () => {
    tenant.definitions.delete("5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    const id = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/a0000005-0000-4000-8000-000000000005";
    const outcome = await judgeGrantEvent(await eventFor(id, "e", "2026-11-21T08:00:00Z"), deps);
    expect(outcome).toMatchObject({ status: "judged", open: [] });
  });

  it("records a rejected event in the ledger with its reason, and writes no finding", async () => {
    const outcome = await judgeGrantEvent({ id: "x", eventType: "Microsoft.Resources.ResourceWriteSuccess", eventTime: "2026-11-21T08:00:00Z", data: { operationName: "Microsoft.Authorization/roleAssignments/write" } }, deps);
    expect(outcome).toMatchObject({ status: "rejected", eventId: "x" });
    expect(ledger.records).toEqual([expect.objectContaining({ eventId: "x", outcome: "rejected", reason: expect.stringContaining("data.resourceUri is missing") })]);
    expect(findings.writes).toBe(0);
  });

  it("fails, writing no finding, when an adapter fails (so the platform redelivers), and the ledger says why until then", async () => {
    deps = { ...deps, principals: { getById: () => Promise.reject(Object.assign(new Error("throttled"), { statusCode: 429 })), listByIds: async () => [] } };
    await expect(judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "e", "2026-11-21T08:00:00Z"), deps)).rejects.toThrow("throttled");
    expect(findings.writes).toBe(0);
    expect(ledger.records).toEqual([expect.objectContaining({ eventId: "e", outcome: "failed", reason: expect.stringContaining("throttled") })]);
    // The redelivery that succeeds replaces it.
    deps = { ...deps, principals: tenant.directory };
    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "e", "2026-11-21T08:00:00Z"), deps);
    expect(ledger.records).toEqual([expect.objectContaining({ eventId: "e", outcome: "judged" })]);
  });

  it("does not let a stale read of ARM reopen an assignment whose later delete was already judged", async () => {
    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "write", "2026-11-21T08:00:00Z"), deps);
    const deletion = await eventFor(UAA_ASSIGNMENT, "delete", "2026-11-21T09:00:00Z");
    await judgeGrantEvent({ ...deletion, eventType: "Microsoft.Resources.ResourceDeleteSuccess", data: { ...deletion.data, operationName: "Microsoft.Authorization/roleAssignments/delete" } }, deps);
    // ARM still answers with the assignment (a replica behind), created long before the delete.
    const late = await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "late-write", "2026-11-21T08:30:00Z"), deps);
    expect(late).toMatchObject({ status: "assignmentGone", reason: expect.stringContaining("deleted at 2026-11-21T09:00:00.000Z") });
    expect((await findings.list()).map((f) => f.status)).toEqual(["resolved", "resolved"]);
  });

  it("judges an assignment created again after its delete", async () => {
    const deletion = await eventFor(UAA_ASSIGNMENT, "delete", "2026-11-21T09:00:00Z");
    await judgeGrantEvent({ ...deletion, eventType: "Microsoft.Resources.ResourceDeleteSuccess", data: { ...deletion.data, operationName: "Microsoft.Authorization/roleAssignments/delete" } }, deps);
    const key = UAA_ASSIGNMENT.toLowerCase();
    tenant.assignments.set(key, { ...tenant.assignments.get(key)!, createdOn: "2026-11-21T10:00:00.000Z" });
    expect(await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "recreated", "2026-11-21T10:00:00Z"), deps)).toMatchObject({ status: "judged", open: [{}, {}] });
  });
});

describe("judgeGrantEvent and exemptions stored on a finding", () => {
  it("keeps a finding a security admin exempted exempted at the next judgement, and opens it once the exemption expires", async () => {
    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "first", "2026-11-21T08:00:00Z"), deps);
    const [stored] = await findings.list();
    // What POST /api/findings/{id}/exempt stores on the finding.
    const exemption = { status: "exempted" as const, exemptionId: "api-0123456789abcdef", exemptionOwner: "secops@contoso.com", exemptionJustification: "Accepted until the migration ends", exemptionExpires: "2026-12-01T00:00:00.000Z", decision: "exempted" as const, decidedBy: "mia@contoso.com", decidedAt: "2026-11-21T09:00:00.000Z" };
    findings.findings.set(stored!.id, { ...stored!, ...exemption });

    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "second", "2026-11-21T10:00:00Z"), deps);
    expect(findings.findings.get(stored!.id)).toMatchObject(exemption);

    deps = { ...deps, now: () => new Date("2026-12-02T00:00:00Z") };
    await judgeGrantEvent(await eventFor(UAA_ASSIGNMENT, "third", "2026-12-02T00:00:00Z"), deps);
    expect(findings.findings.get(stored!.id)).toMatchObject({ status: "open", alertPending: true, alertTransition: "opened", exemptionId: null, decision: "exempted", decidedBy: "mia@contoso.com" });
  });
});
