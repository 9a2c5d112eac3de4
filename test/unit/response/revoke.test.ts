import { describe, expect, it } from "vitest";
import type { Finding } from "../../../shared/model/finding.js";
import type { RoleAssignment } from "../../../shared/model/access.js";
import { carryOutRevocation, failedFindings, finishInterruptedRevocation, planRevocation, revokedFindings } from "../../../shared/response/revoke.js";
import { RoleAssignmentWriteRefusedError } from "../../../shared/response/writer.js";
import { factsForTest } from "../../../shared/policy/testing.js";
import { revocationFakes } from "../../support/fakes.js";

const assignment: RoleAssignment = {
  id: "/subscriptions/s1/resourceGroups/rg-prod/providers/Microsoft.Authorization/roleAssignments/r1",
  name: "r1",
  scope: "/subscriptions/s1/resourceGroups/rg-prod",
  roleDefinitionId: "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  principalId: "guest-1",
  principalType: "User",
  condition: null,
  conditionVersion: null,
  description: "temporary",
  createdOn: null,
  updatedOn: null,
  createdBy: null,
  updatedBy: null,
  delegatedManagedIdentityResourceId: null,
};

const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: "f1",
  policyId: "revoke-guests",
  policyTitle: "Revoke guests",
  severity: "high",
  status: "open",
  action: "revoke",
  assignmentId: assignment.id,
  assignmentName: assignment.name,
  principalId: assignment.principalId,
  principalType: "User",
  principalName: "Guest",
  roleDefinitionId: assignment.roleDefinitionId,
  roleName: "Owner",
  scope: assignment.scope,
  scopeLevel: "resourceGroup",
  subscriptionId: "s1",
  reason: "Revoke guests: principal.guest = true",
  matchedFacts: {},
  firstSeen: "2026-11-21T09:00:00.000Z",
  lastSeen: "2026-11-21T09:00:00.000Z",
  resolvedAt: null,
  resolution: null,
  exemptionId: null,
  exemptionOwner: null,
  exemptionExpires: null,
  grantedBy: null,
  grantedByObjectId: null,
  grantedByIpAddress: null,
  responseKind: "alerted",
  responseDetail: null,
  backupId: null,
  alertPending: true,
  alertTransition: "opened",
  alertAt: "2026-11-21T09:00:00.000Z",
  lastEventId: "e1",
  correlationId: null,
  ...overrides,
});

// PIM was read and made none of these (viaPim false), unless a test says otherwise.
const input = (facts = factsForTest({ assignment: { viaPim: false, permanent: true } })) => ({ assignment, facts, findings: [finding()], eventId: "e1" });

describe("planRevocation's guard rails", () => {
  it("leaves an assignment made through PIM to PIM", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const plan = await planRevocation(deps, input(factsForTest({ assignment: { viaPim: true, permanent: false, pimAssignmentType: "Activated" } })));
    expect(plan.findings[0]).toMatchObject({ responseKind: "revocationBlocked", responseDetail: expect.stringContaining("made through PIM") });
    expect(plan.revocation).toBeNull();
  });

  it("fails closed when PIM could not be read", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const plan = await planRevocation(deps, input(factsForTest({})));
    expect(plan.findings[0]).toMatchObject({ responseKind: "revocationBlocked", responseDetail: expect.stringContaining("PIM could not be read") });
    expect(plan.revocation).toBeNull();
  });

  it("never revokes grantguard's own identity", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const own = { ...input(), assignment: { ...assignment, principalId: "6C0F4B8E-2D1A-4F3B-9E7C-5A8D1B2C3E40" } };
    expect((await planRevocation(deps, own)).findings[0]?.responseDetail).toContain("grantguard's own identity");
  });

  it("revokes nothing when grantguard cannot tell its own identity, and asks again next time", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    let asked = 0;
    const known = deps.selfPrincipalId;
    const plan = await planRevocation({ ...deps, selfPrincipalId: async () => (++asked === 1 ? null : known()) }, input());
    expect(plan).toMatchObject({ revocation: null, findings: [{ responseKind: "revocationBlocked", responseDetail: expect.stringContaining("cannot tell its own identity") }] });
    expect(await deps.store.list()).toEqual([]);
  });

  it("never touches a protected scope or anything below it", async () => {
    const deps = revocationFakes({ mode: "enforce", protectedScopes: ["/subscriptions/S1/"] });
    expect((await planRevocation(deps, input())).findings[0]?.responseDetail).toContain("GRANTGUARD_PROTECTED_SCOPES");
    const sibling = revocationFakes({ mode: "enforce", protectedScopes: ["/subscriptions/s1/resourceGroups/rg-pro"] });
    expect((await planRevocation(sibling, input())).findings[0]?.responseKind).toBe("revoking");
  });

  it("never revokes again what a person is restoring or restored", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const plan = await planRevocation(deps, input());
    await deps.store.transition(plan.revocation!.id, ["pending"], (r) => ({ ...r, status: "restoring", restoredBy: "secops@contoso.com", restoreRequestedAt: "2026-11-21T10:00:00.000Z", restoreReason: "approved in CAB-42" }));
    expect((await planRevocation(deps, input())).findings[0]).toMatchObject({ responseKind: "revocationBlocked", responseDetail: expect.stringContaining("a person restored this assignment") });
  });

  it("stores one backup per assignment, whatever the number of deliveries, and counts it once against the cap", async () => {
    const deps = revocationFakes({ mode: "enforce", maxRevocations: 1 });
    const first = await planRevocation(deps, input());
    const second = await planRevocation(deps, { ...input(), eventId: "e2" });
    expect(second.revocation?.id).toBe(first.revocation?.id);
    expect(await deps.store.list()).toHaveLength(1);
    expect(deps.store.breaker).toMatchObject({ tripped: false, recent: [{ id: first.revocation!.id }] });
    expect(second.findings[0]).toMatchObject({ responseKind: "revoking", backupId: first.revocation!.id });
  });

  it("trips the cap exactly once and raises one alert for the trip, however many revocations find it full", async () => {
    const deps = revocationFakes({ mode: "enforce", maxRevocations: 2 });
    const plans = [];
    for (let i = 0; i < 5; i++) plans.push(await planRevocation(deps, { ...input(), assignment: { ...assignment, id: `${assignment.id}${i}`, name: `r${i}` } }));
    expect(plans.map((p) => p.findings[0]?.responseKind)).toEqual(["revoking", "revoking", "revocationBlocked", "revocationBlocked", "revocationBlocked"]);
    expect(new Set(deps.raised.map((a) => a.id)).size).toBe(1);
    expect(deps.raised[0]).toMatchObject({ severity: "critical", policyId: "grantguard-revocation-cap" });
  });

  it("does nothing for alert policies, and records what it would do in audit mode", async () => {
    const deps = revocationFakes();
    expect((await planRevocation(deps, { ...input(), findings: [finding({ action: "alert" })] })).findings[0]?.responseKind).toBe("alerted");
    expect((await planRevocation(deps, input())).findings[0]).toMatchObject({ responseKind: "wouldRevoke" });
    expect(await deps.store.list()).toEqual([]);
  });
});

describe("carrying out a revocation", () => {
  it("backs up before deleting, and finishes a revocation whose process died after the delete", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const plan = await planRevocation(deps, input());
    expect((await deps.store.list()).map((r) => r.status)).toEqual(["pending"]); // the backup exists before the delete
    deps.writer.deleteById = async () => {
      throw Object.assign(new Error("the process dies here"), { statusCode: 500 });
    };
    await expect(carryOutRevocation(deps, plan.revocation!)).rejects.toThrow("the process dies here");
    const finished = await finishInterruptedRevocation(deps, assignment.id, "2026-11-21T09:05:00.000Z", plan.findings);
    expect(finished?.[0]).toMatchObject({ status: "resolved", responseKind: "revoked", alertPending: true, alertTransition: "opened" });
    expect((await deps.store.list())[0]?.status).toBe("deleted");
    // Once its findings are stored as revoked, there is nothing left to finish.
    expect(await finishInterruptedRevocation(deps, assignment.id, "2026-11-21T09:06:00.000Z", finished!)).toBeNull();
  });

  it("records ARM's final refusal on the backup and the findings instead of throwing", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const plan = await planRevocation(deps, input());
    deps.writer.deleteById = async () => {
      throw new RoleAssignmentWriteRefusedError("ARM refused to delete r1: HTTP 403: AuthorizationFailed", 403);
    };
    const result = await carryOutRevocation(deps, plan.revocation!);
    expect(result).toMatchObject({ status: "failed", revocation: { status: "failed", detail: expect.stringContaining("403") } });
    expect(failedFindings(plan.findings, plan.revocation!.id, result.status === "failed" ? result.detail : "", "2026-11-21T09:01:00.000Z")[0]).toMatchObject({ responseKind: "revocationFailed", responseDetail: expect.stringContaining("AuthorizationFailed"), alertPending: true });
  });

  it("marks the findings revoked with their backup once ARM deleted the assignment", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const plan = await planRevocation(deps, input());
    expect(await carryOutRevocation(deps, plan.revocation!)).toMatchObject({ status: "deleted", revocation: { status: "deleted" } });
    expect(deps.deleted).toEqual([assignment.id]);
    expect(revokedFindings(plan.findings, plan.revocation!.id, "2026-11-21T09:01:00.000Z").map((f) => [f.status, f.responseKind, f.backupId])).toEqual([["resolved", "revoked", plan.revocation!.id]]);
  });
});
