import { connect } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { getRuntime } from "../../shared/runtime.js";
import { DevHost, type HostLog } from "../../local/devhost.js";
import { LocalEventGrid } from "../../local/eventGrid.js";
import type { FunctionRegistration } from "../../functions/index.js";
import { fixture, readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// Deliveries as Event Grid makes them, to the dev host serving the registered functions.

type EventJson = Record<string, unknown> & { data: Record<string, unknown> };

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
const post = (body: string, headers: Record<string, string> = {}, url = webhook()) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", "aeg-event-type": "Notification", ...headers }, body });
const withoutKey = (url: string) => url.replace(/&code=[^&]*/, "");

async function findingsFor(assignmentName: string) {
  const runtime = await getRuntime();
  return (await runtime.services.findings.list()).filter((f) => f.assignmentName === assignmentName);
}

async function ledgerRecord(eventIdPrefix: string) {
  const runtime = await getRuntime();
  return (await runtime.services.ledger.list()).find((r) => r.eventId.startsWith(eventIdPrefix));
}

const armCalls = () => azure.local.simulator.requests.filter((r) => r.route.startsWith("arm."));

describe("the dev host's Event Grid endpoint", () => {
  it("answers the Event Grid subscription validation handshake", async () => {
    const response = await post(JSON.stringify([{ id: "v1", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", data: { validationCode: "abc-123" } }]), { "aeg-event-type": "SubscriptionValidation" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ validationResponse: "abc-123" });
  });

  it("answers the CloudEvents abuse-protection handshake, allowing only Event Grid's origins", async () => {
    const response = await fetch(webhook(), { method: "OPTIONS", headers: { "webhook-request-origin": "eventgrid.azure.net" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
    const stranger = await fetch(webhook(), { method: "OPTIONS", headers: { "webhook-request-origin": "evil.example" } });
    expect(stranger.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
  });

  it("acknowledges a delivery with 202 and keeps one finding when Event Grid delivers the same event three times", async () => {
    const event = await readFixture("events/guest-owner-write.json");
    for (let i = 0; i < 3; i++) expect((await post(JSON.stringify([event]), { "aeg-delivery-count": String(i) })).status).toBe(202);
    const policies = (await findingsFor("a0000001-0000-4000-8000-000000000001")).map((f) => f.policyId);
    expect(policies).toContain("guest-privileged-role");
    expect(policies.length).toBe(new Set(policies).size);
  });

  it("judges a CloudEvents 1.0 event like its Event Grid twin", async () => {
    const eg = await readFixture<Record<string, unknown>>("events/guest-owner-write.json");
    const cloudEvent = { specversion: "1.0", id: "ce-1", type: eg.eventType, source: eg.topic, subject: eg.subject, time: eg.eventTime, data: eg.data };
    const response = await post(JSON.stringify(cloudEvent), { "content-type": "application/cloudevents+json" });
    expect(response.status).toBe(202);
    expect((await findingsFor("a0000001-0000-4000-8000-000000000001")).map((f) => f.policyId)).toContain("guest-privileged-role");
  });

  it("rejects malformed events with their reasons and still judges the good one in the same delivery", async () => {
    const good = await readFixture<EventJson>("events/member-reader-write.json");
    const wrongType = { ...good, id: "bad-type", eventType: "Microsoft.Resources.ResourceActionSuccess" };
    const noUri = { ...good, id: "bad-uri", data: { ...good.data, resourceUri: undefined } };
    const notAssignment = { ...good, id: "bad-resource", data: { ...good.data, operationName: "Microsoft.Storage/storageAccounts/write", resourceUri: "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/st1" } };
    const response = await post(JSON.stringify([wrongType, noUri, notAssignment, good]));
    expect(response.status).toBe(202);

    const runtime = await getRuntime();
    const rejected = new Map((await runtime.services.ledger.list({ outcome: "rejected" })).map((r) => [r.eventId, r.reason]));
    expect(rejected.get("bad-type")).toMatch(/event type "Microsoft.Resources.ResourceActionSuccess" is not/);
    expect(rejected.get("bad-uri")).toMatch(/resourceUri is missing/);
    expect(rejected.get("bad-resource")).toMatch(/not a role assignment write or delete/);
    const judged = (await runtime.services.ledger.list({ outcome: "judged" })).map((r) => r.eventId);
    expect(judged).toContain("e0000002-0000-4000-8000-000000000002");
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
    const rejectedButFine = { id: "harmless", eventType: "Microsoft.Storage.BlobCreated", eventTime: "2026-11-21T09:30:00Z", data: {} };
    await grid.publish([doomed, rejectedButFine]);
    await grid.settled();
    const byId = Object.fromEntries(grid.outcomes.map((o) => [o.eventId, o.status]));
    expect(byId).toEqual({ doomed: "deadLettered", harmless: "delivered" });
  }, 60_000);
});

describe("the dev host is as strict as the Functions host", () => {
  it("refuses a delivery without the eventgrid_extension system key (401), or with another extension's route (403), running nothing", async () => {
    const event = JSON.stringify([{ ...(await readFixture("events/guest-owner-write.json")), id: "keyless" }]);
    expect((await post(event, {}, withoutKey(webhook()))).status).toBe(401);
    expect((await post(event, {}, withoutKey(webhook()) + "&code=not-the-key")).status).toBe(401);
    expect((await post(event, {}, `${host.url}/runtime/webhooks/blobs?functionName=judgeGrantEvent&code=${encodeURIComponent(host.eventGridKey)}`)).status).toBe(403);
    expect((await fetch(withoutKey(webhook()), { method: "OPTIONS", headers: { "webhook-request-origin": "eventgrid.azure.net" } })).status).toBe(401);
    expect(armCalls()).toEqual([]);
    expect(await ledgerRecord("keyless")).toBeUndefined();
    // The key is accepted in the x-functions-key header too (the header wins over ?code=).
    expect((await post(event, { "x-functions-key": host.eventGridKey }, withoutKey(webhook()) + "&code=wrong")).status).toBe(202);
  });

  it("answers 400 to a POST without aeg-event-type, 202 to Unsubscribe and 405 to other methods", async () => {
    const event = JSON.stringify([{ ...(await readFixture("events/guest-owner-write.json")), id: "no-header" }]);
    const response = await fetch(webhook(), { method: "POST", headers: { "content-type": "application/json" }, body: event });
    expect(response.status).toBe(400);
    expect((await post(event, { "aeg-event-type": "Unsubscribe" })).status).toBe(202);
    expect((await fetch(webhook(), { method: "PUT", headers: { "aeg-event-type": "Notification" }, body: event })).status).toBe(405);
    expect(await ledgerRecord("no-header")).toBeUndefined();
  });

  it("parses the body as JSON before any function runs: text, a bare value and deep nesting fail the delivery with 500", async () => {
    const before = (await (await getRuntime()).services.ledger.list()).length;
    const notJson = await post("definitely not json");
    expect(notJson.status).toBe(500);
    expect(await notJson.text()).toMatch(/not JSON/);
    expect((await post("42")).status).toBe(500);
    expect((await post(`[${"[".repeat(100_000)}${"]".repeat(100_000)}]`)).status).toBe(500);
    expect((await (await getRuntime()).services.ledger.list()).length).toBe(before);
  });

  it("answers 404 for a function that is not registered, names being case-sensitive", async () => {
    const keyed = (name: string) => `${host.url}/runtime/webhooks/EventGrid?functionName=${name}&code=${encodeURIComponent(host.eventGridKey)}`;
    const response = await post("[]", {}, keyed("nope"));
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("cannot find function: 'nope'");
    expect((await post("[]", {}, keyed("JUDGEGRANTEVENT"))).status).toBe(404);
  });

  it("fails a delivery whose batch holds an event that is not a JSON object, still running the others", async () => {
    const good = await readFixture<EventJson>("events/member-reader-write.json");
    const response = await post(JSON.stringify(["not an event", { ...good, id: "beside-a-string" }]));
    expect(response.status).toBe(500);
    expect(await response.text()).toMatch(/Unable to bind a JSON String/);
    expect(await ledgerRecord("beside-a-string")).toMatchObject({ outcome: "judged" });
  });
});

describe("a batch, as the Functions host runs it", () => {
  // A probe function that holds every invocation until three are running at once.
  function probeHost(fail: (event: { id?: string }) => boolean) {
    const seen: string[] = [];
    let running = 0;
    let peak = 0;
    let release: () => void = () => undefined;
    const allIn = new Promise<void>((resolve) => (release = resolve));
    const registrations: FunctionRegistration[] = [
      {
        name: "probe",
        trigger: "eventGrid",
        handler: async (event) => {
          const e = event as { id?: string };
          running += 1;
          peak = Math.max(peak, running);
          if (running === 3) release();
          await Promise.race([allIn, new Promise((r) => setTimeout(r, 2_000))]);
          running -= 1;
          seen.push(e.id ?? "");
          if (fail(e)) throw new Error(`probe failed on ${e.id}`);
        },
      },
    ];
    return { host: new DevHost(() => undefined, { registrations }), seen, peak: () => peak };
  }

  it("invokes every event of a delivery at once, not one after another", async () => {
    const probe = probeHost(() => false);
    await probe.host.start();
    try {
      const response = await post(JSON.stringify([{ id: "a" }, { id: "b" }, { id: "c" }]), {}, probe.host.eventGridUrl("probe"));
      expect(response.status).toBe(202);
      expect(probe.peak()).toBe(3);
      expect(probe.seen.sort()).toEqual(["a", "b", "c"]);
    } finally {
      await probe.host.stop();
    }
  });

  it("answers 500 when one invocation of the batch fails, after the others have run", async () => {
    const probe = probeHost((e) => e.id === "b");
    await probe.host.start();
    try {
      const response = await post(JSON.stringify([{ id: "a" }, { id: "b" }, { id: "c" }]), {}, probe.host.eventGridUrl("probe"));
      expect(response.status).toBe(500);
      expect(await response.text()).toMatch(/probe failed on b/);
      expect(probe.seen.sort()).toEqual(["a", "b", "c"]);
    } finally {
      await probe.host.stop();
    }
  });

  it("answers 413 to a body over the request size limit", async () => {
    const small = new DevHost(() => undefined, { maxRequestBodyBytes: 1_024 });
    await small.start();
    try {
      const response = await post(JSON.stringify([{ id: "x".repeat(2_000) }]), {}, small.eventGridUrl("judgeGrantEvent"));
      expect(response.status).toBe(413);
    } finally {
      await small.stop();
    }
  });
});

describe("the dev host keeps serving", () => {
  it("survives a client that hangs up in the middle of a body", async () => {
    // A rejection nobody handles would end a real process: there must be none.
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", listener);
    onTestFinished(() => void process.off("unhandledRejection", listener));
    const { pathname, search } = new URL(webhook());
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(new URL(host.url).port), "127.0.0.1", () => {
        socket.write(`POST ${pathname}${search} HTTP/1.1\r\nHost: 127.0.0.1\r\naeg-event-type: Notification\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[{"id":"half`);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on("error", reject);
    });
    await new Promise((r) => setTimeout(r, 50));
    const response = await post(JSON.stringify([{ id: "v", data: { validationCode: "still-here" } }]), { "aeg-event-type": "SubscriptionValidation" });
    expect(await response.json()).toEqual({ validationResponse: "still-here" });
    expect(unhandled).toEqual([]);
    expect(logs.some((l) => l.functionName === "host" && l.message.includes("ended early"))).toBe(true);
  });

  it("answers 400 with a reason to a path that is not valid percent-encoding, and serves the next request", async () => {
    const response = await fetch(host.httpUrl("revocations/%E0%A4%A/restore"), { method: "POST", body: "{}" });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/not valid percent-encoded UTF-8/);
    expect((await fetch(host.httpUrl("revocations/%E0%A4%A/restore"), { method: "POST", body: "{}" })).status).toBe(400);
    expect((await fetch(`${host.url}/runtime/webhooks/EventGrid%E0?functionName=judgeGrantEvent`, { method: "POST" })).status).toBe(400);
    expect((await fetch(host.httpUrl("nothing/here"))).status).toBe(404);
  });
});

describe("hostile events are recorded as rejected and acknowledged, never a 500 Event Grid retries", () => {
  const SUB = "11111111-1111-4111-8111-111111111111";
  const ASSIGNMENT = "a0000001-0000-4000-8000-000000000001";
  const tail = `providers/Microsoft.Authorization/roleAssignments/${ASSIGNMENT}`;

  async function deliverHostile(id: string, change: (event: EventJson) => unknown) {
    const event = change({ ...(await readFixture<EventJson>("events/guest-owner-write.json")), id });
    const response = await post(JSON.stringify([event]));
    expect(response.status, `${id}: ${await response.clone().text()}`).toBe(202);
  }

  it.each([
    ["dotdot", `/subscriptions/${SUB}/resourceGroups/rg-app/../../../subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-app/${tail}`, /\. or \.\. segment/],
    ["query", `/subscriptions/${SUB}/resourceGroups/rg-app/${tail}?api-version=2015-07-01`, /a character no assignment id has/],
    ["fragment", `/subscriptions/${SUB}/resourceGroups/rg-app/${tail}#x`, /a character no assignment id has/],
    ["escaped", `/subscriptions/${SUB}/resourceGroups/rg%2Dapp/${tail}`, /a character no assignment id has/],
    ["empty-segment", `/subscriptions/${SUB}//resourceGroups/rg-app/${tail}`, /empty segment/],
    ["absolute-url", `https://management.azure.com/subscriptions/${SUB}/resourceGroups/rg-app/${tail}`, /does not start with \//],
    ["not-a-guid", `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/owner`, /not a GUID/],
    ["bad-rg", `/subscriptions/${SUB}/resourceGroups/rg-app./${tail}`, /resource group name/],
    ["long-uri", `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Web/sites/${"x".repeat(3_000)}/${tail}`, /3\d{3} characters long/],
  ])("rejects a resourceUri that is not a role assignment id (%s) without calling ARM", async (name, resourceUri, reason) => {
    await deliverHostile(`hostile-${name}`, (e) => ({ ...e, data: { ...e.data, resourceUri } }));
    expect(await ledgerRecord(`hostile-${name}`)).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(reason) });
    expect(armCalls()).toEqual([]);
  });

  it("rejects a 10 MB resourceUri without calling ARM", async () => {
    await deliverHostile("hostile-10mb", (e) => ({ ...e, data: { ...e.data, resourceUri: `/subscriptions/${SUB}/${"x".repeat(10_000_000)}` } }));
    expect(await ledgerRecord("hostile-10mb")).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/larger than 1048576 bytes/) });
    expect(armCalls()).toEqual([]);
  });

  it("records an event id with a lone surrogate under a clean key", async () => {
    const body = JSON.stringify([{ ...(await readFixture<EventJson>("events/guest-owner-write.json")), id: "lone\ud800surrogate/#?" }]);
    expect(body).toContain("\\ud800");
    expect((await post(body)).status).toBe(202);
    const record = await ledgerRecord("lone\ufffdsurrogate");
    expect(record).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/lone UTF-16 surrogate/) });
    expect(armCalls()).toEqual([]);
  });

  it("records an event id far over Table Storage's key limit, cut and hashed", async () => {
    const id = `huge-id-${"z".repeat(200_000)}`;
    await deliverHostile(id, (e) => e);
    const record = await ledgerRecord("huge-id-zzz");
    expect(record).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/event id is longer than 512/) });
    expect(record!.eventId.length).toBeLessThan(200);
  });

  it("records a delivery whose data nests 100,000 levels deep, even without an id", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const response = await post(JSON.stringify([{ eventType: "Microsoft.Resources.ResourceWriteSuccess", eventTime: "2026-11-21T09:30:00Z", data: deep }]));
    expect(response.status).toBe(202);
    await deliverHostile("hostile-deep", (e) => ({ ...e, data: deep }));
    expect(await ledgerRecord("hostile-deep")).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/nests deeper than 64/) });
    const runtime = await getRuntime();
    expect((await runtime.services.ledger.list({ outcome: "rejected" })).some((r) => r.eventId.startsWith("sha256-") && /id/.test(r.reason))).toBe(true);
  });

  it("records a string longer than a Table Storage property allows", async () => {
    const eventType = "T".repeat(100_000);
    await deliverHostile("hostile-long-type", (e) => ({ ...e, eventType }));
    expect(await ledgerRecord("hostile-long-type")).toMatchObject({ outcome: "rejected" });
  });
});
