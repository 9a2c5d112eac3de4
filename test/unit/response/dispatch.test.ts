import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config.js";
import type { Finding } from "../../../shared/model/finding.js";
import type { Alert } from "../../../shared/response/alert.js";
import type { ChannelMessage } from "../../../shared/response/channels/types.js";
import type { AlertDeliveries, Delivery } from "../../../shared/response/deliveries.js";
import { dispatchFindings, REVOCATION_ANNOUNCEMENT_HOLD_MS, type DispatchDependencies } from "../../../shared/response/dispatch.js";
import { InMemoryFindingsStore } from "../../support/fakes.js";

const ASSIGNMENT = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/r1";
const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: "revoke-guests.abc", policyId: "revoke-guests", policyTitle: "Revoke guests", severity: "high", status: "open", action: "revoke",
  assignmentId: ASSIGNMENT, assignmentName: "r1", principalId: "guest-1", principalType: "User", principalName: "Guest",
  roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", roleName: "Owner",
  scope: "/subscriptions/s1/resourceGroups/rg", scopeLevel: "resourceGroup", subscriptionId: "s1", reason: "Revoke guests: principal.guest = true", matchedFacts: {},
  firstSeen: "2026-11-22T09:00:00.000Z", lastSeen: "2026-11-22T09:00:00.000Z", resolvedAt: null, resolution: null,
  exemptionId: null, exemptionOwner: null, exemptionExpires: null, grantedBy: null, grantedByObjectId: null, grantedByIpAddress: null,
  responseKind: "alerted", responseDetail: null, backupId: null, alertPending: true, alertTransition: "opened", alertAt: "2026-11-22T09:00:00.000Z",
  lastEventId: "e1", correlationId: null, ...overrides,
});

class Outbox implements AlertDeliveries {
  readonly rows = new Map<string, Delivery>();
  async createIfAbsent(d: Delivery) {
    if (this.rows.has(`${d.alertId}|${d.channel}`)) return false;
    this.rows.set(`${d.alertId}|${d.channel}`, d);
    return true;
  }
  async update(d: Delivery) {
    this.rows.set(`${d.alertId}|${d.channel}`, d);
  }
  async list() {
    return [...this.rows.values()];
  }
}

async function setUp(stored: Finding) {
  const findings = new InMemoryFindingsStore();
  const record = await findings.read(ASSIGNMENT);
  await findings.commit(record, { state: { lastEventTime: stored.lastSeen, deletedAt: null }, findings: [stored] });
  const sent: Alert[] = [];
  let now = new Date();
  const deps: DispatchDependencies = {
    findings,
    deliveries: new Outbox(),
    sender: { send: async (m: ChannelMessage) => void sent.push(...(JSON.parse(m.body) as { alerts: Alert[] }).alerts) },
    response: loadConfig({ GRANTGUARD_TABLE_ENDPOINT: "https://unit.table.core.windows.net", GRANTGUARD_WEBHOOK_URL: "https://hooks.example.com/x", GRANTGUARD_WEBHOOK_SECRET: "s".repeat(40), GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]) }).response,
    now: () => now,
  };
  return { findings, deps, sent, later: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe("the outbox", () => {
  it("announces what is stored, not the copy it was handed", async () => {
    const { deps, sent } = await setUp(finding({ responseKind: "revoked", backupId: "b1", status: "resolved" }));
    await dispatchFindings(deps, [finding()]);
    expect(sent.map((a) => a.response)).toEqual([{ kind: "revoked", backupId: "b1" }]);
  });

  it("holds the announcement of a revocation in progress for its outcome, and sends it as it stands if none comes", async () => {
    const { deps, sent, later } = await setUp(finding({ responseKind: "revoking", responseDetail: "revocation in progress (backup b1)", backupId: "b1" }));
    expect(await dispatchFindings(deps, [finding()])).toMatchObject({ queued: 0 });
    later(REVOCATION_ANNOUNCEMENT_HOLD_MS + 1_000);
    await dispatchFindings(deps, [finding()]);
    expect(sent.map((a) => a.response.kind)).toEqual(["revoking"]);
  });
});
