import { describe, expect, it } from "vitest";
import { breakerChanges, findingChange, revocationChange } from "../../../shared/audit/changes.js";
import type { Finding } from "../../../shared/model/finding.js";
import { ARMED, type Revocation } from "../../../shared/response/revocations.js";

const AT = "2026-11-22T10:00:00.000Z";
const finding: Finding = {
  id: "guest-privileged-role.abc",
  policyId: "guest-privileged-role",
  policyTitle: "Guest with a privileged role",
  severity: "high",
  status: "open",
  action: "alert",
  assignmentId: "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a",
  assignmentName: "a",
  principalId: "p",
  principalType: "User",
  principalName: "Dev Contractor",
  roleDefinitionId: "r",
  roleName: "Owner",
  scope: "/subscriptions/s",
  scopeLevel: "subscription",
  subscriptionId: "s",
  reason: "matched",
  matchedFacts: { "principal.guest": true },
  firstSeen: AT,
  lastSeen: AT,
  resolvedAt: null,
  resolution: null,
  exemptionId: null,
  exemptionOwner: null,
  exemptionExpires: null,
  grantedBy: "alice@contoso.com",
  grantedByObjectId: null,
  grantedByIpAddress: null,
  responseKind: "alerted",
  responseDetail: null,
  backupId: null,
  alertPending: true,
  alertTransition: "opened",
  alertAt: AT,
  lastEventId: "e1",
  correlationId: null,
};

describe("which finding writes the trail records", () => {
  it("records a new finding as opened, with its state and the event behind it", () => {
    const entry = findingChange(null, finding, AT);
    expect(entry).toMatchObject({ kind: "finding.opened", actor: "grantguard", subject: finding.assignmentId, data: { findingId: finding.id, eventId: "e1", state: { status: "open", severity: "high" } } });
    expect(entry?.data.state).not.toHaveProperty("lastSeen");
  });

  it("records nothing when only observations moved (seen again, new facts' values, the outbox cleared)", () => {
    const seenAgain = { ...finding, lastSeen: "2026-11-23T00:00:00.000Z", lastEventId: "e2", matchedFacts: { "principal.guest": true, n: 2 }, alertPending: false, reason: "matched again" };
    expect(findingChange(finding, seenAgain, AT)).toBeNull();
  });

  it("names a status change by the new status, a response change, and any other change of state", () => {
    expect(findingChange(finding, { ...finding, status: "resolved", resolvedAt: AT, resolution: "deleted" }, AT)).toMatchObject({ kind: "finding.resolved", data: { changed: ["status", "resolvedAt", "resolution"], before: { status: "open", resolvedAt: null, resolution: null } } });
    expect(findingChange({ ...finding, status: "resolved" }, finding, AT)?.kind).toBe("finding.reopened");
    expect(findingChange(finding, { ...finding, status: "exempted", exemptionId: "x", exemptionOwner: "o" }, AT)?.kind).toBe("finding.exempted");
    expect(findingChange(finding, { ...finding, responseKind: "revoking", backupId: "rv" }, AT)?.kind).toBe("finding.response");
    expect(findingChange(finding, { ...finding, severity: "critical" }, AT)?.kind).toBe("finding.updated");
  });

  it("records the person who made a change when the writer names one", () => {
    expect(findingChange(finding, { ...finding, status: "exempted", exemptionId: "x" }, AT, "grace@contoso.com (g)")?.actor).toBe("grace@contoso.com (g)");
  });

  it("gives the same change the same id whenever it is computed, and another change another id", () => {
    const resolved = { ...finding, status: "resolved" as const, resolvedAt: AT };
    expect(findingChange(finding, resolved, AT)?.id).toBe(findingChange(finding, resolved, "2030-01-01T00:00:00.000Z")?.id);
    expect(findingChange(finding, resolved, AT)?.id).not.toBe(findingChange(finding, { ...resolved, lastEventId: "e9" }, AT)?.id);
  });
});

describe("which revocation and breaker changes the trail records", () => {
  const revocation: Revocation = { id: "rv-1", assignmentId: finding.assignmentId, assignmentName: "a", scope: "/subscriptions/s", principalId: "p", principalType: "User", roleDefinitionId: "r", condition: null, conditionVersion: null, description: null, delegatedManagedIdentityResourceId: null, status: "pending", detail: null, policyIds: ["demo"], findings: [], eventId: "e1", createdAt: AT, deletedAt: null, restoreRequestedAt: null, restoredAt: null, restoredBy: null, restoreReason: null };

  it("records each status once, a restore with the person and their reason", () => {
    expect(revocationChange(null, revocation, AT)).toMatchObject({ id: "revocation.rv-1.pending", kind: "revocation.pending", actor: "grantguard" });
    expect(revocationChange(revocation, { ...revocation, detail: "more" }, AT)).toBeNull();
    const restoring = { ...revocation, status: "restoring" as const, restoredBy: "mia@contoso.com (c)", restoreReason: "CAB-42 approved it" };
    expect(revocationChange({ ...revocation, status: "deleted" }, restoring, AT)).toMatchObject({ kind: "revocation.restoring", actor: "mia@contoso.com (c)", data: { from: "deleted", reason: "CAB-42 approved it" } });
  });

  it("records the breaker tripping and a re-arm, not the counting in between", () => {
    expect(breakerChanges(ARMED, { ...ARMED, recent: [{ id: "rv-1", at: AT }] }, AT)).toEqual([]);
    expect(breakerChanges(ARMED, { ...ARMED, tripped: true, trippedAt: AT, reason: "cap" }, AT).map((e) => e.kind)).toEqual(["breaker.tripped"]);
    expect(breakerChanges({ ...ARMED, tripped: true }, { ...ARMED, rearmedAt: AT, rearmedBy: "grace", rearmReason: "reviewed" }, AT)).toEqual([expect.objectContaining({ kind: "breaker.rearmed", actor: "grace", data: { wasTripped: true, reason: "reviewed", rearmedAt: AT } })]);
  });
});
