import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { getRuntime } from "../../shared/runtime.js";
import { DevHost, type HostLog } from "../../local/devhost.js";
import { LocalEventGrid } from "../../local/eventGrid.js";
import { fixture, readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// Deliveries as Event Grid makes them, to the dev host serving the registered functions.

let azure: TestAzure;
let host: DevHost;
const logs: HostLog[] = [];
beforeAll(async () => {
  azure = await startTestAzure();
  host = new DevHost((log) => logs.push(log));
  await host.start();
});
afterAll(async () => {
  await host?.stop();
  await azure?.stop();
});
beforeEach(async () => {
  azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
});

const webhook = () => host.eventGridUrl("judgeGrantEvent");
const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(webhook(), { method: "POST", headers: { "content-type": "application/json", "aeg-event-type": "Notification", ...headers }, body });

async function findingsFor(assignmentName: string) {
  const runtime = await getRuntime();
  return (await runtime.services.findings.list()).filter((f) => f.assignmentName === assignmentName);
}

describe("the dev host's Event Grid endpoint", () => {
  it("answers the Event Grid subscription validation handshake", async () => {
    const response = await post(JSON.stringify([{ id: "v1", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", data: { validationCode: "abc-123" } }]), { "aeg-event-type": "SubscriptionValidation" });
    expect(await response.json()).toEqual({ validationResponse: "abc-123" });
  });

  it("answers the CloudEvents abuse-protection handshake", async () => {
    const response = await fetch(webhook(), { method: "OPTIONS", headers: { "webhook-request-origin": "eventgrid.azure.net" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
  });

  it("keeps one finding when Event Grid delivers the same event three times", async () => {
    const event = await readFixture("events/guest-owner-write.json");
    for (let i = 0; i < 3; i++) expect((await post(JSON.stringify([event]), { "aeg-delivery-count": String(i) })).status).toBe(200);
    const policies = (await findingsFor("a0000001-0000-4000-8000-000000000001")).map((f) => f.policyId);
    expect(policies).toContain("guest-privileged-role");
    expect(policies.length).toBe(new Set(policies).size);
  });

  it("judges a CloudEvents 1.0 event like its Event Grid twin", async () => {
    const eg = await readFixture<Record<string, unknown>>("events/guest-owner-write.json");
    const cloudEvent = { specversion: "1.0", id: "ce-1", type: eg.eventType, source: eg.topic, subject: eg.subject, time: eg.eventTime, data: eg.data };
    const response = await post(JSON.stringify(cloudEvent), { "content-type": "application/cloudevents+json" });
    expect(response.status).toBe(200);
    expect((await findingsFor("a0000001-0000-4000-8000-000000000001")).map((f) => f.policyId)).toContain("guest-privileged-role");
  });

  it("rejects malformed events with their reasons and still judges the good one in the same delivery", async () => {
    const good = await readFixture<Record<string, unknown> & { data: Record<string, unknown> }>("events/member-reader-write.json");
    const wrongType = { ...good, id: "bad-type", eventType: "Microsoft.Resources.ResourceActionSuccess" };
    const noUri = { ...good, id: "bad-uri", data: { ...good.data, resourceUri: undefined } };
    const notAssignment = { ...good, id: "bad-resource", data: { ...good.data, operationName: "Microsoft.Storage/storageAccounts/write", resourceUri: "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/st1" } };
    const notJson = "{this is not json";
    const response = await post(JSON.stringify([wrongType, noUri, notJson, notAssignment, good]));
    expect(response.status).toBe(200);

    const runtime = await getRuntime();
    const rejected = new Map((await runtime.services.ledger.list({ outcome: "rejected" })).map((r) => [r.eventId, r.reason]));
    expect(rejected.get("bad-type")).toMatch(/event type Microsoft.Resources.ResourceActionSuccess is not/);
    expect(rejected.get("bad-uri")).toMatch(/resourceUri is missing/);
    expect(rejected.get("bad-resource")).toMatch(/not a role assignment write or delete/);
    expect([...rejected.values()]).toContain("the event is not JSON");
    const judged = (await runtime.services.ledger.list({ outcome: "judged" })).map((r) => r.eventId);
    expect(judged).toContain("e0000002-0000-4000-8000-000000000002");
  });

  it("records a delivery whose whole body is not JSON as rejected", async () => {
    expect((await post("definitely not json")).status).toBe(200);
    const runtime = await getRuntime();
    expect((await runtime.services.ledger.list({ outcome: "rejected" })).some((r) => r.reason === "the event is not JSON")).toBe(true);
  });

  it("fails the delivery on a persistent Azure error so Event Grid retries, and succeeds once Azure recovers", async () => {
    azure.local.simulator.faults.add({ route: "arm.roleAssignments.get", status: 503, count: 4 }); // the first attempt's SDK retries (1 + 3)
    const grid = new LocalEventGrid({ endpoint: webhook(), retryDelaysMs: [100], maxAttempts: 3 });
    const event = { ...(await readFixture("events/guest-owner-write.json")), id: "retry-me" };
    await grid.publish([event]);
    await grid.settled();

    expect(grid.outcomes).toEqual([{ status: "delivered", eventId: "retry-me", attempts: 2 }]);
    expect(logs.some((l) => l.level === "error" && l.message.includes("HTTP 503"))).toBe(true);
    expect((await findingsFor("a0000001-0000-4000-8000-000000000001")).map((f) => f.policyId)).toContain("guest-privileged-role");
  }, 30_000);

  it("dead-letters an event whose every attempt fails (grantguard lost read access), and keeps delivering the others", async () => {
    azure.local.simulator.faults.add({ route: "arm.roleAssignments.get", status: 403 });
    const grid = new LocalEventGrid({ endpoint: webhook(), retryDelaysMs: [50], maxAttempts: 2 });
    const doomed = { ...(await readFixture("events/member-reader-write.json")), id: "doomed" };
    await grid.publish([doomed, "not json at all"]);
    await grid.settled();
    const byId = Object.fromEntries(grid.outcomes.map((o) => [o.eventId, o.status]));
    expect(byId).toEqual({ doomed: "deadLettered", "(no id)": "delivered" });
  }, 60_000);
});

describe("the dev host's registrations", () => {
  it("answers 404 for a function that is not registered", async () => {
    const response = await fetch(`${host.url}/runtime/webhooks/EventGrid?functionName=nope`, { method: "POST", body: "[]" });
    expect(response.status).toBe(404);
  });
});
