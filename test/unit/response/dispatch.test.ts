import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config.js";
import type { Finding } from "../../../shared/model/finding.js";
import type { Alert } from "../../../shared/response/alert.js";
import type { ChannelMessage } from "../../../shared/response/channels/types.js";
import { DELIVERY_LEASE_MS, dispatchAlerts, dispatchFindings, REVOCATION_ANNOUNCEMENT_HOLD_MS, SEND_CONCURRENCY, type DispatchDependencies } from "../../../shared/response/dispatch.js";
import { InMemoryAlertDeliveries, InMemoryFindingsStore } from "../../support/fakes.js";

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

async function setUp(stored: Finding) {
  const findings = new InMemoryFindingsStore();
  const record = await findings.read(ASSIGNMENT);
  await findings.commit(record, { state: { lastEventTime: stored.lastSeen, deletedAt: null }, findings: [stored] });
  const sent: Alert[] = [];
  let now = new Date();
  const deps: DispatchDependencies = {
    findings,
    deliveries: new InMemoryAlertDeliveries(),
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

const CHANNELS = {
  GRANTGUARD_TABLE_ENDPOINT: "https://unit.table.core.windows.net",
  GRANTGUARD_WEBHOOK_URL: "https://hooks.example.com/x",
  GRANTGUARD_WEBHOOK_SECRET: "s".repeat(40),
  GRANTGUARD_TEAMS_WEBHOOK_URL: "https://teams.example.com/workflow",
  GRANTGUARD_SLACK_WEBHOOK_URL: "https://hooks.slack.example.com/services/x",
  GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["teams", "slack", "webhook"] }]),
  GRANTGUARD_ALERT_RETRY_BASE_SECONDS: "0",
};

/** `count` pending findings, each about its own assignment (as a sweep leaves them), in a store. */
async function pendingFindings(count: number, severity: (i: number) => Finding["severity"] = () => "high") {
  const findings = new InMemoryFindingsStore();
  const written: Finding[] = [];
  for (let i = 0; i < count; i++) {
    const assignmentId = `/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/r${i}`;
    const f = finding({ id: `guest-owner.${i}`, policyId: i % 3 === 0 ? "guest-owner" : "stale-owner", assignmentId, assignmentName: `r${i}`, principalId: `p-${i}`, severity: severity(i) });
    await findings.commit(await findings.read(assignmentId), { state: { lastEventTime: f.lastSeen, deletedAt: null }, findings: [f] });
    written.push(f);
  }
  return { findings, written };
}

/** A sender that records every message, optionally failing, and how many were in flight at once. */
function recordingSender(options: { failWith?: () => Error | null; delayMs?: number } = {}) {
  const messages: ChannelMessage[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const sender = {
    async send(m: ChannelMessage) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
        const error = options.failWith?.();
        if (error) throw error;
        messages.push(m);
      } finally {
        inFlight--;
      }
    },
  };
  return { sender, messages, maxInFlight: () => maxInFlight };
}

const kindOf = (m: ChannelMessage) => (m.url.includes("teams") ? "teams" : m.url.includes("slack") ? "slack" : "webhook");

describe("a round with many alerts", () => {
  it("sends one summary per channel past the threshold, and records every alert delivered with that summary's key", async () => {
    const { findings, written } = await pendingFindings(25, (i) => (i === 7 ? "critical" : "high"));
    const deliveries = new InMemoryAlertDeliveries();
    const { sender, messages } = recordingSender();
    const deps: DispatchDependencies = { findings, deliveries, sender, response: loadConfig(CHANNELS).response, now: () => new Date() };

    const report = await dispatchFindings(deps, written);

    expect(messages.map(kindOf).sort()).toEqual(["slack", "teams", "webhook"]);
    expect(report).toMatchObject({ queued: 75, delivered: 75, retrying: 0, failed: 0, messages: 3 });
    const webhook = JSON.parse(messages.find((m) => kindOf(m) === "webhook")!.body) as { summary: { alerts: number; bySeverity: Record<string, number> }; alerts: Alert[] };
    expect(webhook.summary).toMatchObject({ alerts: 25, bySeverity: { critical: 1, high: 24, medium: 0, low: 0 }, part: 1, parts: 1 });
    expect(webhook.alerts.map((a) => a.findingId).sort()).toEqual(written.map((f) => f.id).sort());
    const rows = await deliveries.list();
    expect(rows).toHaveLength(75);
    for (const m of messages) {
      const key = m.headers["x-grantguard-idempotency-key"];
      expect(rows.filter((r) => r.channel === kindOf(m)).every((r) => r.status === "delivered" && r.deliveredIn === key)).toBe(true);
    }
    // Every state change was handed over: nothing is pending, and another round sends nothing.
    expect(await findings.listPendingAlerts()).toEqual([]);
    expect(await dispatchAlerts(deps)).toMatchObject({ queued: 0, messages: 0 });
    expect(messages).toHaveLength(3);
  });

  it("sends each alert on its own up to the threshold", async () => {
    const { findings, written } = await pendingFindings(20);
    const { sender, messages } = recordingSender();
    const deps: DispatchDependencies = { findings, deliveries: new InMemoryAlertDeliveries(), sender, response: loadConfig(CHANNELS).response, now: () => new Date() };
    expect(await dispatchFindings(deps, written)).toMatchObject({ delivered: 60, messages: 60 });
    expect(messages.every((m) => !("summary" in (JSON.parse(m.body) as object)))).toBe(true);
  });

  it("counts the threshold per channel: a channel with few alerts in the round gets them one by one", async () => {
    const { findings, written } = await pendingFindings(21, (i) => (i < 3 ? "critical" : "medium"));
    const { sender, messages } = recordingSender();
    const routes = [{ channels: ["webhook"] }, { channels: ["teams"], minSeverity: "critical" }];
    const deps: DispatchDependencies = { findings, deliveries: new InMemoryAlertDeliveries(), sender, response: loadConfig({ ...CHANNELS, GRANTGUARD_ALERT_ROUTES: JSON.stringify(routes) }).response, now: () => new Date() };
    await dispatchFindings(deps, written);
    expect(messages.filter((m) => kindOf(m) === "webhook")).toHaveLength(1);
    expect(messages.filter((m) => kindOf(m) === "teams")).toHaveLength(3);
  });

  it("retries a summary that failed with back-off, then delivers every alert of it, each once", async () => {
    const { findings, written } = await pendingFindings(30);
    const deliveries = new InMemoryAlertDeliveries();
    let failures = 1;
    const { sender, messages } = recordingSender({ failWith: () => (failures-- > 0 ? new Error("HTTP 503 from hooks.example.com") : null) });
    let now = new Date("2026-11-22T10:00:00.000Z");
    const response = { ...loadConfig({ ...CHANNELS, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]), GRANTGUARD_ALERT_RETRY_BASE_SECONDS: "30" }).response };
    const deps: DispatchDependencies = { findings, deliveries, sender, response, now: () => now };

    expect(await dispatchFindings(deps, written)).toMatchObject({ delivered: 0, retrying: 30, messages: 0 });
    expect((await deliveries.list()).every((d) => d.status === "pending" && d.attempts === 1 && d.lastError === "Error: HTTP 503 from hooks.example.com" && d.nextAttemptAt === "2026-11-22T10:00:30.000Z")).toBe(true);
    // Not yet due: the timer leaves them.
    now = new Date("2026-11-22T10:00:20.000Z");
    expect(await dispatchAlerts(deps)).toMatchObject({ delivered: 0, messages: 0 });
    now = new Date("2026-11-22T10:00:31.000Z");
    expect(await dispatchAlerts(deps)).toMatchObject({ delivered: 30, messages: 1 });
    expect(messages).toHaveLength(1);
    expect((await deliveries.list()).every((d) => d.status === "delivered" && d.attempts === 2 && d.lastError === null)).toBe(true);
  });

  it("never has more than SEND_CONCURRENCY messages in flight, and sends every one", async () => {
    const { findings, written } = await pendingFindings(20);
    const { sender, messages, maxInFlight } = recordingSender({ delayMs: 5 });
    const deps: DispatchDependencies = { findings, deliveries: new InMemoryAlertDeliveries(), sender, response: loadConfig({ ...CHANNELS, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]) }).response, now: () => new Date() };
    await dispatchFindings(deps, written);
    expect(messages).toHaveLength(20);
    expect(maxInFlight()).toBe(SEND_CONCURRENCY);
  });
});

describe("a round that cannot record", () => {
  it("leaves what it sent claimed, and once the claim runs out sends it again with the same idempotency key and records it", async () => {
    const { findings, written } = await pendingFindings(3);
    const deliveries = new InMemoryAlertDeliveries();
    const { sender, messages } = recordingSender();
    let now = new Date("2026-11-22T10:00:00.000Z");
    const deps: DispatchDependencies = { findings, deliveries, sender, response: loadConfig({ ...CHANNELS, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]) }).response, now: () => now };
    deliveries.failNext = new Error("Table Storage answered 503");
    await expect(dispatchFindings(deps, written)).rejects.toThrow("503");
    const keys = messages.map((m) => m.headers["x-grantguard-idempotency-key"]);
    expect((await findings.listPendingAlerts()).every((p) => p.claimedUntil !== null)).toBe(true);

    expect(await dispatchAlerts(deps)).toMatchObject({ messages: 0 });
    now = new Date(now.getTime() + DELIVERY_LEASE_MS + 1_000);
    expect(keys).toHaveLength(3);
    expect(await dispatchAlerts(deps)).toMatchObject({ queued: 3, delivered: 3, messages: 3 });
    // What was not recorded went again, with the same keys (receivers drop it); nothing is left pending.
    expect(messages.slice(3).map((m) => m.headers["x-grantguard-idempotency-key"]).sort()).toEqual([...keys].sort());
    expect((await deliveries.list()).map((d) => d.status)).toEqual(["delivered", "delivered", "delivered"]);
    expect(await findings.listPendingAlerts()).toEqual([]);
  });
});

describe("the timer's round", () => {
  it("reads only what is pending or due: never a listing of the findings or of the deliveries", async () => {
    const { findings } = await pendingFindings(3);
    const deliveries = new InMemoryAlertDeliveries();
    const refuse = (what: string) => async () => {
      throw new Error(`the timer listed ${what}`);
    };
    findings.list = refuse("every finding");
    deliveries.list = refuse("every delivery");
    const { sender, messages } = recordingSender();
    const deps: DispatchDependencies = { findings, deliveries, sender, response: loadConfig({ ...CHANNELS, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]) }).response, now: () => new Date() };
    expect(await dispatchAlerts(deps)).toMatchObject({ queued: 3, delivered: 3 });
    expect(messages).toHaveLength(3);
  });

  it("leaves a change alone while the instance that claimed it may still be sending it, and sends it once its claim has run out", async () => {
    const { findings, written } = await pendingFindings(1);
    const deliveries = new InMemoryAlertDeliveries();
    let now = new Date("2026-11-22T10:00:00.000Z");
    const response = loadConfig({ ...CHANNELS, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]) }).response;
    // The first instance claims the change and starts sending, then stops (it died).
    let started = () => undefined as void;
    const sending = new Promise<void>((resolve) => (started = resolve));
    const dying: DispatchDependencies = { findings, deliveries, sender: { send: () => (started(), new Promise<void>(() => undefined)) }, response, now: () => now };
    void dispatchFindings(dying, written);
    await sending;
    expect(await findings.listPendingAlerts()).toEqual([expect.objectContaining({ claimedUntil: new Date(now.getTime() + DELIVERY_LEASE_MS) })]);

    const { sender, messages } = recordingSender();
    const timer: DispatchDependencies = { findings, deliveries, sender, response, now: () => now };
    now = new Date(now.getTime() + DELIVERY_LEASE_MS - 1_000);
    expect(await dispatchAlerts(timer)).toMatchObject({ delivered: 0 });
    now = new Date(now.getTime() + 2_000);
    expect(await dispatchAlerts(timer)).toMatchObject({ delivered: 1 });
    expect(await dispatchAlerts(timer)).toMatchObject({ delivered: 0 });
    expect(messages).toHaveLength(1);
  });
});
