import { describe, expect, it } from "vitest";
import { contentId, parseGrantEvent, parseRoleAssignmentId } from "../../../shared/model/event.js";
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
    const uri = "/providers/Microsoft.Authorization/roleAssignments/a0000008-0000-4000-8000-000000000008";
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
    expect(reasonOf({ ...write, data: { ...write.data, resourceUri: "/subscriptions/x/resourceGroups/rg" } })).toMatch(/is not a role assignment id/);
  });

  it("gives a rejected event without an id a stable id from its content", () => {
    const a = parseGrantEvent("garbage");
    const b = parseGrantEvent("garbage");
    expect(a.status === "rejected" && a.eventId).toMatch(/^sha256-[0-9a-f]{32}$/);
    expect(a).toEqual(b);
  });

  it("rejects an event id that could not be stored or keyed, and records it under a short clean id", () => {
    const long = parseGrantEvent({ ...write, id: "x".repeat(100_000) });
    expect(long).toMatchObject({ status: "rejected", reason: "the event id is longer than 512 characters" });
    expect(long.status === "rejected" && long.eventId.length).toBeLessThan(120);
    const lone = parseGrantEvent({ ...write, id: "a\ud800b" });
    expect(lone).toMatchObject({ status: "rejected", reason: expect.stringMatching(/lone UTF-16 surrogate/), eventId: expect.stringMatching(/^a\ufffdb~sha256-/) });
    // Two hostile ids never share a record.
    const other = parseGrantEvent({ ...write, id: "a\udc00b" });
    expect(other.status === "rejected" && lone.status === "rejected" && other.eventId !== lone.eventId).toBe(true);
  });

  it("rejects an event over Event Grid's 1 MB, or nested deeper than the host parses, before reading it", () => {
    expect(reasonOf({ ...write, data: { ...write.data, padding: "p".repeat(2_000_000) } })).toMatch(/larger than 1048576 bytes/);
    expect(reasonOf("x".repeat(2_000_000))).toMatch(/larger than 1048576 bytes/);
    expect(reasonOf({ ...write, data: new Array(2_000_000).fill(0) })).toMatch(/larger than 1048576 bytes/);
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(reasonOf({ ...write, data: deep })).toMatch(/nests deeper than 64 levels/);
    expect(reasonOf({ ...write, data: `${"[".repeat(100_000)}{}${"]".repeat(100_000)}` })).toMatch(/data nests deeper than 64 levels/);
    const noId = parseGrantEvent({ eventType: write.eventType, data: deep });
    expect(noId).toMatchObject({ status: "rejected", eventId: expect.stringMatching(/^sha256-/) });
  });

  it("copies claims cleaned and cut, never rejecting a real grant over a display name", () => {
    const name = `Eve\u0000\ud800 ${"e".repeat(5_000)}`;
    const parsed = parseGrantEvent({ ...write, data: { ...write.data, claims: { ...(write.data.claims as object), name } } });
    expect(parsed.status).toBe("ok");
    const copied = parsed.status === "ok" ? (parsed.event.grantedBy.name ?? "") : "";
    expect(copied.startsWith("Eve\ufffd\ufffd ")).toBe(true);
    expect(copied.length).toBe(1_024);
    expect(copied.endsWith("…")).toBe(true);
  });
});

describe("contentId", () => {
  it("hashes any JSON value in one pass: deep nesting does not overflow the stack", () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(contentId({ data: deep })).toMatch(/^sha256-[0-9a-f]{32}$/);
    expect(contentId({ data: deep })).toBe(contentId({ data: deep }));
  });

  it("tells different contents apart, and gives JSON text the id of its value", () => {
    const ids = new Set([contentId({ a: [1, 2] }), contentId({ a: [12] }), contentId({ a: ["1", "2"] }), contentId({ a: "1,2" }), contentId(["a", 1]), contentId([1, 2]), contentId("a\ud800"), contentId("a\udc00")]);
    expect(ids.size).toBe(8);
    expect(contentId('{"a":[1,"x",{}]}')).toBe(contentId({ a: [1, "x", {}] }));
  });
});

describe("parseRoleAssignmentId", () => {
  const A = "providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001";
  const SUB = "11111111-1111-4111-8111-111111111111";

  it.each([
    [`/${A}`, "/"],
    [`/providers/Microsoft.Management/managementGroups/contoso-corp(eu).1/${A}`, "/providers/Microsoft.Management/managementGroups/contoso-corp(eu).1"],
    [`/subscriptions/${SUB}/${A}`, `/subscriptions/${SUB}`],
    [`/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/rg_Éte-1.(x)/PROVIDERS/MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/A0000001-0000-4000-8000-000000000001`, `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/rg_Éte-1.(x)`],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1/blobServices/default/containers/c1/${A}`, `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1/blobServices/default/containers/c1`],
  ])("accepts the documented shape %s", (uri, scope) => {
    expect(parseRoleAssignmentId(uri)).toEqual({ status: "ok", scope, subscriptionId: scope.includes(SUB) ? SUB : null });
  });

  it.each([
    ["a relative id", `subscriptions/${SUB}/${A}`],
    ["a URL", `https://management.azure.com/subscriptions/${SUB}/${A}`],
    ["a parent segment", `/subscriptions/${SUB}/resourceGroups/rg/../../../${A}`],
    ["a query", `/subscriptions/${SUB}/${A}?api-version=2015-07-01`],
    ["a fragment", `/subscriptions/${SUB}/${A}#frag`],
    ["a percent-escape", `/subscriptions/${SUB}/resourceGroups/r%67/${A}`],
    ["a back-slash", `/subscriptions/${SUB}/resourceGroups/rg\\x/${A}`],
    ["an empty segment", `/subscriptions/${SUB}//${A}`],
    ["a control character", `/subscriptions/${SUB}/resourceGroups/r\ng/${A}`],
    ["a subscription that is not a GUID", `/subscriptions/prod/${A}`],
    ["a resource group ending in a period", `/subscriptions/${SUB}/resourceGroups/rg./${A}`],
    ["a resource group of 91 characters", `/subscriptions/${SUB}/resourceGroups/${"r".repeat(91)}/${A}`],
    ["a management group with a space", `/providers/Microsoft.Management/managementGroups/contoso corp/${A}`],
    ["a name that is not a GUID", `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/owner`],
    ["an unknown scope kind", `/tenants/${SUB}/${A}`],
    ["a resource without a name", `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${A}`],
    ["an assignment as a scope", `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/a0000002-0000-4000-8000-000000000002/${A}`],
    ["a resource below a subscription without its group", `/subscriptions/${SUB}/providers/Microsoft.Storage/storageAccounts/st1/${A}`],
    ["a 3,000-character id", `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/${"s".repeat(3_000)}/${A}`],
  ])("rejects %s", (_what, uri) => {
    expect(parseRoleAssignmentId(uri)).toMatchObject({ status: "invalid", reason: expect.stringMatching(/role assignment id|characters long/) });
  });
});
