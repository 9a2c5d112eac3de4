import { TableClient } from "@azure/data-tables";
import type { PipelineRequest, PipelineResponse, SendRequest } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { TableAlertDeliveries } from "../../shared/azure/deliveriesTable.js";
import { TableFindingsStore } from "../../shared/azure/findingsTable.js";
import { loadConfig } from "../../shared/config.js";
import type { FindingsStore } from "../../shared/findings/store.js";
import { findingId, type Finding } from "../../shared/model/finding.js";
import type { Alert } from "../../shared/response/alert.js";
import { IDEMPOTENCY_KEY_HEADER } from "../../shared/response/channels/index.js";
import type { AlertDeliveries, Delivery } from "../../shared/response/deliveries.js";
import { DELIVERY_LEASE_MS, dispatchAlerts, dispatchFindings, type DispatchDependencies } from "../../shared/response/dispatch.js";
import { HttpAlertSender } from "../../shared/response/sender.js";
import { WebhookReceiver } from "../../local/webhookReceiver.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { sweepTenant } from "../../shared/usecases/sweep.js";
import { snapshotInventory } from "../../shared/usecases/sweepSnapshot.js";

// The outbox at volume, through the real Table SDK against Azurite: what the timer reads, what a
// bulk change sends, and what happens when an instance dies or races another.

const SECRET = "a-test-secret-that-is-long-enough-0123456789";
const SUBSCRIPTIONS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];

let azure: TestAzure;
let receiver: WebhookReceiver;
let chat: WebhookReceiver;
let run = 0;
beforeAll(async () => {
  azure = await startTestAzure();
  receiver = new WebhookReceiver({ secret: SECRET });
  chat = new WebhookReceiver();
  await Promise.all([receiver.start(), chat.start()]);
});
afterAll(async () => {
  await Promise.all([receiver?.stop(), chat?.stop()]);
  await azure?.stop();
});
beforeEach(() => {
  receiver.reset();
  chat.reset();
  run += 1;
});

const assignmentIn = (subscription: string, n: number) => `/subscriptions/${subscription}/resourceGroups/rg-${n % 7}/providers/Microsoft.Authorization/roleAssignments/${String(n).padStart(8, "0")}-0000-4000-8000-000000000000`;

/** A finding of `policy` about an assignment, announcing its opening unless `pending` is false. */
function finding(assignmentId: string, policy: string, options: { pending?: boolean; transition?: Finding["alertTransition"]; at?: string } = {}): Finding {
  const scope = assignmentId.replace(/\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/, "");
  const subscriptionId = /^\/subscriptions\/([^/]+)/.exec(scope)?.[1] ?? null;
  const at = options.at ?? "2026-11-22T09:00:00.000Z";
  return {
    id: findingId(policy, assignmentId),
    policyId: policy, policyTitle: `Policy ${policy}`, severity: "high", status: options.transition === "resolved" ? "resolved" : "open", action: "alert",
    assignmentId, assignmentName: assignmentId.split("/").pop() ?? "", principalId: "bbbbbbbb-0000-4000-8000-000000000002", principalType: "User", principalName: "Guest",
    roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", roleName: "Owner",
    scope, scopeLevel: "resourceGroup", subscriptionId, reason: `${policy}: principal.guest = true`, matchedFacts: { "principal.guest": true },
    firstSeen: at, lastSeen: at, resolvedAt: null, resolution: null, exemptionId: null, exemptionOwner: null, exemptionExpires: null,
    grantedBy: "ada@contoso.com", grantedByObjectId: null, grantedByIpAddress: null, responseKind: "alerted", responseDetail: null, backupId: null,
    alertPending: options.pending ?? true, alertTransition: options.pending === false ? null : (options.transition ?? "opened"), alertAt: options.pending === false ? null : at,
    lastEventId: "e1", correlationId: null,
  };
}

/** Writes findings the way a judgement does: one conditional commit per assignment. */
async function store(findings: FindingsStore, written: readonly Finding[]): Promise<void> {
  for (const assignmentId of new Set(written.map((f) => f.assignmentId))) {
    const record = await findings.read(assignmentId);
    const mine = written.filter((f) => f.assignmentId === assignmentId);
    expect(await findings.commit(record, { state: { lastEventTime: mine[0]!.lastSeen, deletedAt: null }, findings: mine })).toBe(true);
  }
}

/** One request a table client made: its method, its query's filter, and how many entities came back. */
interface Recorded {
  readonly method: string;
  readonly filter: string | null;
  readonly entities: number;
}

/** A table client that records every request it makes (through a policy in the SDK's own pipeline). */
function recordingClient(table: string): { client: TableClient; requests: Recorded[] } {
  const client = new TableClient(azure.local.settings.GRANTGUARD_TABLE_ENDPOINT!, table, createManagedIdentityCredential({ clientId: undefined, timeoutMs: 30_000 }));
  const requests: Recorded[] = [];
  client.pipeline.addPolicy({
    name: "recordRequests",
    async sendRequest(request: PipelineRequest, next: SendRequest): Promise<PipelineResponse> {
      const response = await next(request);
      let entities = 0;
      if (request.method === "GET" && response.bodyAsText) entities = (JSON.parse(response.bodyAsText) as { value?: unknown[] }).value?.length ?? 1;
      requests.push({ method: request.method, filter: new URL(request.url).searchParams.get("$filter"), entities });
      return response;
    },
  });
  return { client, requests };
}

function webhookOnly(settings: Record<string, string> = {}) {
  return loadConfig({ GRANTGUARD_TABLE_ENDPOINT: azure.local.settings.GRANTGUARD_TABLE_ENDPOINT!, GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"), GRANTGUARD_WEBHOOK_SECRET: SECRET, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]), GRANTGUARD_ALERT_RETRY_BASE_SECONDS: "0", ...settings }).response;
}

describe("the timer's round", () => {
  it("reads as much over 1,550 findings as over 50 when the same few are pending: one partition and one key range per query, never a scan", async () => {
    const findingsTable = recordingClient(`outboxscanf${process.pid}x${run}`);
    const alertsTable = recordingClient(`outboxscana${process.pid}x${run}`);
    const findings = new TableFindingsStore(findingsTable.client);
    const deps: DispatchDependencies = { findings, deliveries: new TableAlertDeliveries(alertsTable.client), sender: new HttpAlertSender(), response: webhookOnly(), now: () => new Date() };
    let n = 0;
    /** 50 findings on each of `assignments` new assignments, spread over the subscriptions, none pending. */
    const quiet = (assignments: number) => Array.from({ length: assignments }, (_, a) => assignmentIn(SUBSCRIPTIONS[a % 2]!, 10_000 + ++n)).flatMap((id) => Array.from({ length: 50 }, (_, p) => finding(id, `quiet-${p}`, { pending: false })));
    const pending = () => SUBSCRIPTIONS.map((s) => finding(assignmentIn(s, ++n), "guest-owner"));

    await store(findings, [...quiet(1), ...pending()]);
    await dispatchAlerts(deps); // creates the tables, fetches a token
    const round = async () => {
      findingsTable.requests.length = 0;
      alertsTable.requests.length = 0;
      const report = await dispatchAlerts(deps);
      expect(report).toMatchObject({ queued: 2, delivered: 2 });
      return [...findingsTable.requests, ...alertsTable.requests];
    };
    n += 100;
    await store(findings, pending());
    const few = await round();
    n += 100;
    await store(findings, [...quiet(30), ...pending()]);
    const many = await round();

    const reads = (requests: readonly Recorded[]) => requests.filter((r) => r.method === "GET");
    expect(reads(many).length).toBe(reads(few).length);
    expect(reads(many).reduce((sum, r) => sum + r.entities, 0)).toBe(reads(few).reduce((sum, r) => sum + r.entities, 0));
    expect(many.length).toBe(few.length);
    for (const r of reads(many)) {
      // Every query names its partition; every one but the short partition index's reads a RowKey range.
      expect(r.filter, JSON.stringify(r)).toMatch(/^PartitionKey eq '[^']+'/);
      if (!r.filter?.includes("~partitions")) expect(r.filter, JSON.stringify(r)).toMatch(/RowKey ge '[^']+' and RowKey lt '[^']+'$/);
    }
    expect(receiver.uniqueDeliveries()).toHaveLength(6);
  });

  it("leaves a change alone while the instance sending it may still be at it, then sends it once", async () => {
    const runtime = await azure.runtime({ GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"), GRANTGUARD_WEBHOOK_SECRET: SECRET, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]) });
    const written = SUBSCRIPTIONS.map((s, i) => finding(assignmentIn(s, 10 + i), "guest-owner"));
    await store(runtime.services.findings, written);
    let now = new Date();
    // The judging instance takes the changes and starts its POSTs, which hang.
    let release: (error: Error) => void = () => undefined;
    const stuck = new Promise<void>((_, reject) => (release = reject));
    let started = 0;
    const judging = dispatchFindings({ ...runtime.dispatch, sender: { send: () => (started++, stuck) }, now: () => now }, written);
    await expect.poll(() => started).toBe(2);

    const timer: DispatchDependencies = { ...runtime.dispatch, now: () => now };
    expect(await dispatchAlerts(timer)).toMatchObject({ delivered: 0 });
    expect(receiver.received).toHaveLength(0);
    now = new Date(now.getTime() + DELIVERY_LEASE_MS + 1_000);
    expect(await dispatchAlerts(timer)).toMatchObject({ delivered: 2 });
    expect(await dispatchAlerts(timer)).toMatchObject({ delivered: 0 });
    // The stuck instance finally fails: its late outcome does not overwrite what the timer recorded.
    release(new Error("connection reset"));
    await judging;
    expect(receiver.uniqueDeliveries()).toHaveLength(2);
    expect(receiver.received.filter((r) => r.duplicate)).toHaveLength(0);
    expect((await runtime.services.deliveries.list()).map((d) => [d.status, d.attempts])).toEqual([["delivered", 1], ["delivered", 1]]);
    expect(await runtime.services.findings.list({ alertPending: true })).toEqual([]);
  });
});

describe("a change whose deliveries may be recorded already", () => {
  it("is not sent again when the same change is stored again after it was handed over", async () => {
    const runtime = await azure.runtime({ GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"), GRANTGUARD_WEBHOOK_SECRET: SECRET, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]) });
    const assignment = assignmentIn(SUBSCRIPTIONS[0]!, 40);
    await store(runtime.services.findings, [finding(assignment, "guest-owner")]);
    expect(await runtime.dispatchAlerts()).toMatchObject({ delivered: 1 });
    // The same change (same transition and time) stored again with more to say, as a late revocation outcome is.
    const record = await runtime.services.findings.read(assignment);
    const again = { ...record.findings[0]!, alertPending: true, responseKind: "revocationFailed" as const, responseDetail: "ARM answered 403" };
    expect(await runtime.services.findings.commit(record, { state: record.state!, findings: [again] })).toBe(true);

    expect(await runtime.dispatchAlerts()).toMatchObject({ delivered: 0, messages: 0 });
    expect(receiver.received).toHaveLength(1);
    expect(await runtime.services.findings.list({ alertPending: true })).toEqual([]);
  });

  it("has only what was not recorded sent when its round died while recording", async () => {
    const settings = { GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"), GRANTGUARD_WEBHOOK_SECRET: SECRET, GRANTGUARD_TEAMS_WEBHOOK_URL: chat.url("/teams"), GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook", "teams"] }]) };
    const runtime = await azure.runtime(settings);
    await store(runtime.services.findings, [finding(assignmentIn(SUBSCRIPTIONS[1]!, 41), "guest-owner")]);
    let now = new Date();
    // The round records the webhook's delivery, then dies before the Teams one is written.
    const real = runtime.dispatch.deliveries;
    const dying: AlertDeliveries = {
      batchKey: (d) => real.batchKey(d),
      claimDue: (o) => real.claimDue(o),
      update: (c) => real.update(c),
      listExisting: (d) => real.listExisting(d),
      listDigest: () => real.listDigest(),
      list: (o) => real.list(o),
      create: async (deliveries) => {
        await real.create(deliveries.filter((d) => d.channel === "webhook"));
        throw new Error("the process dies");
      },
    };
    await expect(dispatchAlerts({ ...runtime.dispatch, deliveries: dying, now: () => now })).rejects.toThrow("dies");
    expect(receiver.received).toHaveLength(1);
    expect(chat.received).toHaveLength(1);

    now = new Date(now.getTime() + DELIVERY_LEASE_MS + 1_000);
    expect(await dispatchAlerts({ ...runtime.dispatch, now: () => now })).toMatchObject({ delivered: 1, messages: 1 });
    expect(receiver.received).toHaveLength(1);
    expect(chat.received).toHaveLength(2);
    expect(chat.received[1]?.headers[IDEMPOTENCY_KEY_HEADER]).toBe(chat.received[0]?.headers[IDEMPOTENCY_KEY_HEADER]);
    expect((await runtime.services.deliveries.list()).map((d) => [d.channel, d.status]).sort()).toEqual([["teams", "delivered"], ["webhook", "delivered"]]);
    expect(await runtime.services.findings.list({ alertPending: true })).toEqual([]);
  });
});

describe("a bulk change", () => {
  it("goes out as one summary per channel, and every alert is recorded delivered with that summary's key", async () => {
    const runtime = await azure.runtime({
      GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"),
      GRANTGUARD_WEBHOOK_SECRET: SECRET,
      GRANTGUARD_TEAMS_WEBHOOK_URL: chat.url("/teams"),
      GRANTGUARD_SLACK_WEBHOOK_URL: chat.url("/slack"),
      GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["teams", "slack", "webhook"] }]),
    });
    const written = Array.from({ length: 30 }, (_, i) => finding(assignmentIn(SUBSCRIPTIONS[i % 2]!, 100 + i), i % 3 ? "guest-owner" : "stale-owner"));
    await store(runtime.services.findings as TableFindingsStore, written);

    const report = await runtime.dispatchAlerts();

    expect(receiver.received).toHaveLength(1);
    expect(chat.received).toHaveLength(2);
    expect(report).toMatchObject({ queued: 90, delivered: 90, messages: 3 });
    const [hook] = receiver.received;
    expect(hook?.verified).toBe(true);
    const body = hook?.body as { summary: { alerts: number; byPolicy: { policyId: string; count: number }[] }; alerts: Alert[] };
    expect(body.summary).toMatchObject({ alerts: 30, byPolicy: [{ policyId: "guest-owner", count: 20 }, { policyId: "stale-owner", count: 10 }] });
    expect(body.alerts.map((a) => a.findingId).sort()).toEqual(written.map((f) => f.id).sort());
    expect(chat.received.map((r) => r.path).sort()).toEqual(["/slack", "/teams"]);
    const keys: Record<string, string | undefined> = { webhook: hook?.headers[IDEMPOTENCY_KEY_HEADER], ...Object.fromEntries(chat.received.map((r) => [r.path.slice(1), r.headers[IDEMPOTENCY_KEY_HEADER]])) };
    const rows = await runtime.services.deliveries.list();
    expect(rows).toHaveLength(90);
    expect(rows.filter((d: Delivery) => d.status !== "delivered" || d.deliveredIn !== keys[d.channel])).toEqual([]);

    expect(await runtime.dispatchAlerts()).toMatchObject({ queued: 0, messages: 0 });
    expect(receiver.received.length + chat.received.length).toBe(3);
  });
});

describe("a sweep", () => {
  it("has its alerts go through the outbox: the next timer round sends what it opened as one summary, every alert recorded", async () => {
    const runtime = await azure.runtime({ GRANTGUARD_WEBHOOK_URL: receiver.url("/hook"), GRANTGUARD_WEBHOOK_SECRET: SECRET, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]), GRANTGUARD_ALERT_SUMMARY_THRESHOLD: "5" });
    const now = new Date("2026-12-01T00:00:00.000Z");
    const { inventory } = await snapshotInventory(await readTenantSnapshot(fixture("tenants/sweep.json")), { now, lookbackDays: 90 });
    const run = await sweepTenant(inventory, { findings: runtime.services.findings, policies: runtime.pack.policies, exemptions: runtime.pack.exemptions, now });
    expect(run.findingWrites).toBeGreaterThan(5);

    expect(await runtime.dispatchAlerts()).toMatchObject({ queued: run.findingWrites, delivered: run.findingWrites, messages: 1 });
    expect(receiver.received).toHaveLength(1);
    const body = receiver.received[0]?.body as { summary: { alerts: number }; alerts: Alert[] };
    expect(body.summary.alerts).toBe(run.findingWrites);
    expect(await runtime.services.findings.list({ alertPending: true })).toEqual([]);
    expect(await runtime.dispatchAlerts()).toMatchObject({ queued: 0, messages: 0 });
  });
});

describe("the findings store's outbox", () => {
  it("keeps a change pending when a newer one was written while it was being handed over, and hands the newer one over whole", async () => {
    const findings = new TableFindingsStore(recordingClient(`outboxracef${process.pid}x${run}`).client);
    const assignment = assignmentIn(SUBSCRIPTIONS[0]!, 7);
    await store(findings, [finding(assignment, "guest-owner")]);
    const [opened] = await findings.listPendingAlerts();
    expect(opened?.finding.alertTransition).toBe("opened");

    // Meanwhile another instance resolves it.
    const record = await findings.read(assignment);
    const resolved = { ...record.findings[0]!, status: "resolved" as const, alertPending: true, alertTransition: "resolved" as const, alertAt: "2026-11-22T10:00:00.000Z" };
    expect(await findings.commit(record, { state: { lastEventTime: "2026-11-22T10:00:00.000Z", deletedAt: null }, findings: [resolved] })).toBe(true);

    expect(await findings.clearAlertsPending([opened!])).toEqual(new Set());
    const [newer] = await findings.listPendingAlerts({ assignmentIds: [assignment.toUpperCase()] });
    expect(newer?.finding).toMatchObject({ alertTransition: "resolved", alertPending: true });
    expect((await findings.read(assignment)).findings[0]?.alertPending).toBe(true);

    expect(await findings.clearAlertsPending([newer!])).toEqual(new Set([resolved.id]));
    expect(await findings.listPendingAlerts()).toEqual([]);
    expect((await findings.read(assignment)).findings[0]?.alertPending).toBe(false);
  });

  it("writes an assignment with more pending findings than one transaction holds, each beside its marker, and hands them all over", async () => {
    const { client, requests } = recordingClient(`outboxbigf${process.pid}x${run}`);
    const findings = new TableFindingsStore(client);
    const assignment = assignmentIn(SUBSCRIPTIONS[1]!, 8);
    const many = Array.from({ length: 70 }, (_, i) => finding(assignment, `policy-${i}`));
    await store(findings, many);
    expect(requests.filter((r) => r.method === "POST" && r.filter === null).length).toBeGreaterThanOrEqual(2);
    const pending = await findings.listPendingAlerts({ assignmentIds: [assignment] });
    expect(pending.map((p) => p.finding.id).sort()).toEqual(many.map((f) => f.id).sort());
    expect((await findings.clearAlertsPending(pending)).size).toBe(70);
    expect(await findings.listPendingAlerts()).toEqual([]);
    expect((await findings.list({ alertPending: true })).length).toBe(0);
  });
});

describe("the pending changes of given assignments", () => {
  it("are theirs only, whether read one assignment at a time or, for many in one subscription, in one read of its markers", async () => {
    const findings = new TableFindingsStore(recordingClient(`outboxmanyf${process.pid}x${run}`).client);
    const assignments = Array.from({ length: 30 }, (_, i) => assignmentIn(SUBSCRIPTIONS[0]!, 500 + i));
    await store(findings, [...assignments.map((a) => finding(a, "guest-owner")), finding(assignmentIn(SUBSCRIPTIONS[1]!, 600), "guest-owner")]);
    const ids = (pending: readonly { finding: Finding }[]) => pending.map((p) => p.finding.assignmentId).sort();
    expect(ids(await findings.listPendingAlerts({ assignmentIds: assignments.slice(0, 3) }))).toEqual(assignments.slice(0, 3).sort());
    expect(ids(await findings.listPendingAlerts({ assignmentIds: assignments.slice(0, 25).map((a) => a.toUpperCase()) }))).toEqual(assignments.slice(0, 25).sort());
    expect(await findings.listPendingAlerts()).toHaveLength(31);
  });
});

describe("due deliveries", () => {
  it("are claimed by one instance only when several claim at once", async () => {
    const deliveries = new TableAlertDeliveries(recordingClient(`outboxclaima${process.pid}x${run}`).client);
    const past = new Date(Date.now() - 60_000).toISOString();
    const rows: Delivery[] = Array.from({ length: 40 }, (_, i) => ({ alertId: `${i}`.padStart(32, "a"), channel: "webhook", findingId: `p.${i}`, status: "pending", attempts: 1, nextAttemptAt: past, lastError: "HTTP 503", createdAt: past, deliveredAt: null, deliveredIn: null, payload: "{}" }));
    expect(await deliveries.create(rows)).toHaveLength(40);
    expect(await deliveries.create(rows)).toHaveLength(0);
    const now = new Date();
    const leaseUntil = new Date(now.getTime() + DELIVERY_LEASE_MS);
    const claims = await Promise.all([1, 2, 3].map(() => deliveries.claimDue({ now, leaseUntil, limit: 1_000 })));
    const claimed = claims.flat().map((d) => d.alertId);
    expect(claimed.sort()).toEqual(rows.map((r) => r.alertId).sort());
    expect(await deliveries.claimDue({ now, leaseUntil, limit: 1_000 })).toEqual([]);
    expect(await deliveries.claimDue({ now: new Date(leaseUntil.getTime() + 1), leaseUntil: new Date(leaseUntil.getTime() + DELIVERY_LEASE_MS), limit: 15 })).toHaveLength(15);
  });
});
