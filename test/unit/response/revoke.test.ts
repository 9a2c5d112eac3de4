import { describe, expect, it } from "vitest";
import type { Finding } from "../../../shared/model/finding.js";
import type { RoleAssignment } from "../../../shared/model/access.js";
import { finishInterruptedRevocation, revokeIfRequired } from "../../../shared/response/revoke.js";
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
const input = (facts = factsForTest({ assignment: { viaPim: false, permanent: true } })) => ({ assignment, facts, findings: [finding()], eventId: "e1", at: "2026-11-21T09:00:00.000Z" });

describe("revokeIfRequired's guard rails", () => {
  it("leaves an assignment made through PIM to PIM", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const result = await revokeIfRequired(deps, input(factsForTest({ assignment: { viaPim: true, permanent: false, pimAssignmentType: "Assigned" } })));
    expect(result.findings[0]).toMatchObject({ responseKind: "revocationBlocked", responseDetail: expect.stringContaining("made through PIM") });
    expect(deps.deleted).toEqual([]);
  });

  it("fails closed when PIM could not be read", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const result = await revokeIfRequired(deps, input(factsForTest({})));
    expect(result.findings[0]).toMatchObject({ responseKind: "revocationBlocked", responseDetail: expect.stringContaining("PIM could not be read") });
    expect(deps.deleted).toEqual([]);
  });

  it("never revokes grantguard's own identity", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const own = { ...input(), assignment: { ...assignment, principalId: "6C0F4B8E-2D1A-4F3B-9E7C-5A8D1B2C3E40" } };
    expect((await revokeIfRequired(deps, own)).findings[0]?.responseDetail).toContain("grantguard's own identity");
    expect(deps.deleted).toEqual([]);
  });

  it("never touches a protected scope or anything below it", async () => {
    const deps = revocationFakes({ mode: "enforce", protectedScopes: ["/subscriptions/S1/"] });
    expect((await revokeIfRequired(deps, input())).findings[0]?.responseDetail).toContain("GRANTGUARD_PROTECTED_SCOPES");
    const sibling = revocationFakes({ mode: "enforce", protectedScopes: ["/subscriptions/s1/resourceGroups/rg-pro"] });
    expect((await revokeIfRequired(sibling, input())).findings[0]?.responseKind).toBe("revoked");
  });

  it("stores the backup before deleting, and finishes a revocation whose process died after the delete", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    deps.writer.deleteById = async () => {
      const stored = await deps.store.list();
      expect(stored.map((r) => r.status)).toEqual(["pending"]); // the backup exists before the delete
      throw Object.assign(new Error("the process dies here"), { statusCode: 500 });
    };
    await expect(revokeIfRequired(deps, input())).rejects.toThrow("the process dies here");
    const finished = await finishInterruptedRevocation(deps, assignment.id, "2026-11-21T09:05:00.000Z", []);
    expect(finished?.[0]).toMatchObject({ status: "resolved", responseKind: "revoked", alertPending: true, alertTransition: "opened" });
    expect((await deps.store.list())[0]?.status).toBe("deleted");
    // Once its findings are stored, there is nothing left to finish.
    expect(await finishInterruptedRevocation(deps, assignment.id, "2026-11-21T09:06:00.000Z", finished!)).toBeNull();
  });

  it("finishes a revocation whose process died after marking the delete but before storing the findings", async () => {
    const deps = revocationFakes({ mode: "enforce" });
    const result = await revokeIfRequired(deps, input());
    expect(result.revocation?.status).toBe("deleted");
    // The process dies here: the findings in `result` are never stored.
    const finished = await finishInterruptedRevocation(deps, assignment.id, "2026-11-21T09:05:00.000Z", []);
    expect(finished?.map((f) => [f.status, f.responseKind, f.backupId])).toEqual([["resolved", "revoked", result.revocation!.id]]);
  });

  it("does nothing for alert policies, and records what it would do in audit mode", async () => {
    const deps = revocationFakes();
    expect((await revokeIfRequired(deps, { ...input(), findings: [finding({ action: "alert" })] })).findings[0]?.responseKind).toBe("alerted");
    expect((await revokeIfRequired(deps, input())).findings[0]).toMatchObject({ responseKind: "wouldRevoke" });
    expect(deps.deleted).toEqual([]);
  });
});
