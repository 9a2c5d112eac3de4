import { describe, expect, it } from "vitest";
import { parseGrantEvent } from "../../../shared/model/event.js";
import { readFixture } from "../../support/testAzure.js";

type EventJson = Record<string, unknown> & { data: Record<string, unknown> };
const write = await readFixture<EventJson>("events/guest-owner-write.json");

function reasonOf(raw: unknown): string {
  const parsed = parseGrantEvent(raw);
  if (parsed.status !== "rejected") throw new Error("expected a rejection");
  return parsed.reason;
}

describe("parseGrantEvent", () => {
  it("reads an Event Grid role-assignment write with its granter from the claims", () => {
    const parsed = parseGrantEvent(write);
    expect(parsed).toEqual({
      status: "ok",
      event: {
        eventId: "e0000001-0000-4000-8000-000000000001",
        schema: "EventGrid",
        eventType: "Microsoft.Resources.ResourceWriteSuccess",
        kind: "write",
        assignmentId: "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001",
        scope: "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app",
        subscriptionId: "11111111-1111-4111-8111-111111111111",
        tenantId: "3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13",
        correlationId: "c0c0c0c0-0000-4000-8000-000000000001",
        eventTime: "2026-11-21T09:30:00.000Z",
        grantedBy: { objectId: "aaaaaaaa-0000-4000-8000-000000000001", upn: "ada@contoso.com", name: "Ada Admin", appId: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", ipAddress: "203.0.113.7", identityType: "user" },
      },
    });
  });

  it("reads the same event in the CloudEvents 1.0 schema, and as JSON text", () => {
    const ce = { specversion: "1.0", id: "ce", type: write.eventType, source: write.topic, time: write.eventTime, data: write.data };
    expect(parseGrantEvent(ce)).toMatchObject({ status: "ok", event: { schema: "CloudEvents", kind: "write", eventId: "ce" } });
    expect(parseGrantEvent(JSON.stringify(write))).toMatchObject({ status: "ok" });
  });

  it("reads a root-scope assignment's scope as /", () => {
    const uri = "/providers/Microsoft.Authorization/roleAssignments/x1";
    expect(parseGrantEvent({ ...write, data: { ...write.data, resourceUri: uri } })).toMatchObject({ status: "ok", event: { scope: "/", subscriptionId: "11111111-1111-4111-8111-111111111111" } });
  });

  it("says why a bad event is rejected", () => {
    expect(reasonOf("{nope")).toBe("the event is not JSON");
    expect(reasonOf(42)).toBe("the event is not a JSON object");
    expect(reasonOf({ ...write, eventTime: undefined })).toMatch(/not a valid Event Grid event: eventTime/);
    expect(reasonOf({ ...write, eventType: "Microsoft.Resources.ResourceWriteFailure" })).toMatch(/is not Microsoft.Resources.ResourceWriteSuccess/);
    expect(reasonOf({ ...write, data: "{broken" })).toBe("the event's data is not JSON");
    expect(reasonOf({ ...write, data: { ...write.data, resourceUri: undefined } })).toMatch(/data.resourceUri is missing/);
    expect(reasonOf({ ...write, data: { ...write.data, operationName: "Microsoft.Authorization/roleAssignments/delete" } })).toMatch(/does not fit event type/);
    expect(reasonOf({ ...write, data: { ...write.data, resourceUri: "/subscriptions/x/resourceGroups/rg" } })).toMatch(/is not a role assignment/);
  });

  it("gives a rejected event without an id a stable id from its content", () => {
    const a = parseGrantEvent("garbage");
    const b = parseGrantEvent("garbage");
    expect(a.status === "rejected" && a.eventId).toMatch(/^sha256-[0-9a-f]{32}$/);
    expect(a).toEqual(b);
  });
});
