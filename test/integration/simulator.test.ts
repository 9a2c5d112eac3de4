import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuthorizationClient } from "../../shared/azure/arm.js";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { createGraphClient, GraphPrincipals } from "../../shared/azure/graph.js";
import type { ResourceEvent } from "../../local/simulator/server.js";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// The simulator as the real SDK clients see it: REST shapes, filters, paging, errors.

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const RG = `${SUB}/resourceGroups/rg-app`;
const READER = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
const MEMBER = "cccccccc-0000-4000-8000-000000000003";
const OWNER = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`;
const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const GUEST = "bbbbbbbb-0000-4000-8000-000000000002";

let azure: TestAzure;
let client: ReturnType<typeof createAuthorizationClient>;
let principals: GraphPrincipals;
beforeAll(async () => {
  azure = await startTestAzure("tenants/small.json", { pageSize: 3 });
  const credential = createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 });
  client = createAuthorizationClient(credential, azure.local.simulator.url);
  principals = new GraphPrincipals(createGraphClient(credential, azure.local.simulator.url));
});
afterAll(async () => {
  await azure?.stop();
});

async function all<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) out.push(item);
  return out;
}

describe("ARM role assignments", () => {
  it("lists at, above and below a scope, following nextLink pages", async () => {
    const names = (await all(client.roleAssignments.listForScope(SUB))).map((a) => a.name).sort();
    expect(names).toEqual(["a0000001", "a0000002", "a0000003", "a0000004", "a0000005", "a0000006", "a0000007", "a0000008", "a0000009"].map((p) => `${p}-0000-4000-8000-00000000000${p.slice(-1)}`));
    expect(azure.local.simulator.requests.filter((r) => r.route === "arm.roleAssignments.list").length).toBe(3);
  });

  it("lists only at and above the scope with atScope()", async () => {
    const scopes = (await all(client.roleAssignments.listForScope(SUB, { filter: "atScope()" }))).map((a) => a.scope);
    expect(new Set(scopes)).toEqual(new Set([SUB, "/"]));
  });

  it("filters by principal with principalId eq", async () => {
    const found = await all(client.roleAssignments.listForScope(SUB, { filter: `principalId eq '${MEMBER}'` }));
    expect(found.map((a) => a.principalId)).toEqual([MEMBER, MEMBER]);
  });

  it("answers an unsupported filter with ARM's 400", async () => {
    await expect(all(client.roleAssignments.listForScope(SUB, { filter: "roleName eq 'Owner'" }))).rejects.toMatchObject({ statusCode: 400, code: "UnsupportedQuery" });
  });

  it("creates an assignment with the caller as creator, refuses a duplicate, and deletes it, emitting both events", async () => {
    const events: ResourceEvent[] = [];
    azure.local.simulator.onResourceEvent((e) => events.push(e));
    const created = await client.roleAssignments.create(RG, "c0000001-0000-4000-8000-000000000001", { roleDefinitionId: READER, principalId: "ffffffff-0000-4000-8000-000000000006", principalType: "ServicePrincipal" });
    expect(created).toMatchObject({ scope: RG, principalType: "ServicePrincipal", createdBy: "6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40" });
    expect(created.createdOn).toBeInstanceOf(Date);
    await expect(client.roleAssignments.create(RG, "c0000002-0000-4000-8000-000000000002", { roleDefinitionId: READER, principalId: "ffffffff-0000-4000-8000-000000000006" })).rejects.toMatchObject({ statusCode: 409, code: "RoleAssignmentExists" });
    await client.roleAssignments.delete(RG, "c0000001-0000-4000-8000-000000000001");
    await expect(client.roleAssignments.getById(created.id!)).rejects.toMatchObject({ statusCode: 404, code: "RoleAssignmentNotFound" });
    expect(events.map((e) => [e.eventType, (e.data as { operationName: string }).operationName])).toEqual([
      ["Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Authorization/roleAssignments/write"],
      ["Microsoft.Resources.ResourceDeleteSuccess", "Microsoft.Authorization/roleAssignments/delete"],
    ]);
  });
});

describe("ARM role definitions", () => {
  it("serves a built-in role under the scope it is asked at, and lists custom roles by filter", async () => {
    const reader = await client.roleDefinitions.getById(READER);
    expect(reader).toMatchObject({ id: READER, roleName: "Reader", roleType: "BuiltInRole" });
    const custom = await all(client.roleDefinitions.list(SUB, { filter: "type eq 'CustomRole'" }));
    expect(custom.map((d) => d.roleName)).toEqual(["Test Access Delegator"]);
    await expect(client.roleDefinitions.getById(`${SUB}/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-00000000dead`)).rejects.toMatchObject({ statusCode: 404, code: "RoleDefinitionDoesNotExist" });
  });
});

describe("Microsoft Graph", () => {
  it("returns directory objects by id and answers 404 for a deleted one", async () => {
    expect(await principals.getById("bbbbbbbb-0000-4000-8000-000000000002")).toMatchObject({ "@odata.type": "#microsoft.graph.user", userType: "Guest" });
    expect(await principals.getById("99999999-0000-4000-8000-000000000009")).toBeNull();
  });

  it("resolves many ids in one getByIds call, leaving out the deleted ones", async () => {
    const found = await principals.listByIds(["bbbbbbbb-0000-4000-8000-000000000002", "99999999-0000-4000-8000-000000000009", "12121212-0000-4000-8000-000000000007"]);
    expect(found.map((p) => p["@odata.type"])).toEqual(["#microsoft.graph.user", "#microsoft.graph.group"]);
  });
});

describe("the simulator's edges", () => {
  it("answers an unknown route like ARM, and a request without a token with 401", async () => {
    const unknown = await fetch(`${azure.local.simulator.url}/subscriptions/x/providers/Microsoft.Compute/virtualMachines?api-version=2024-01-01`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "InvalidResourceType" } });
    const anonymous = await fetch(`${azure.local.simulator.url}${SUB}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("refuses an api-version ARM does not serve for Microsoft.Authorization", async () => {
    const credential = createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 });
    const token = await credential.getToken("https://management.azure.com/.default");
    const response = await fetch(`${azure.local.simulator.url}${SUB}/providers/Microsoft.Authorization/roleAssignments?api-version=1999-01-01`, { headers: { authorization: `Bearer ${token!.token}` } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "InvalidApiVersionParameter" } });
  });

  it("takes fault rules over HTTP, refuses a bad one, and lists what it answered", async () => {
    const sim = azure.local.simulator.url;
    const bad = await fetch(`${sim}/_simulator/faults`, { method: "POST", body: JSON.stringify({ route: "arm.roleAssignments.get", status: 200 }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as unknown).toMatchObject({ error: { message: "status must be an integer from 400 to 599" } });
    const added = await fetch(`${sim}/_simulator/faults`, { method: "POST", body: JSON.stringify({ route: "graph.*", status: 429, retryAfterSeconds: 0, count: 1 }) });
    expect(added.status).toBe(201);
    expect(await principals.getById("bbbbbbbb-0000-4000-8000-000000000002")).not.toBeNull();
    const log = (await (await fetch(`${sim}/_simulator/requests`)).json()) as { value: { route: string; status: number }[] };
    expect(log.value.filter((r) => r.route === "graph.directoryObjects.getByIds").slice(-2).map((r) => r.status)).toEqual([429, 200]);
    expect((await fetch(`${sim}/_simulator/faults`, { method: "DELETE" })).status).toBe(200);
  });

  it("adds latency on demand, which the token timeout guard turns into an error", async () => {
    azure.local.simulator.faults.add({ route: "identity.token", latencyMs: 3_000, count: 1 });
    const slow = createManagedIdentityCredential({ clientId: "e1e1e1e1-0000-4000-8000-000000000015", timeoutMs: 1_000 });
    await expect(slow.getToken("https://graph.microsoft.com/.default")).rejects.toThrow(/no token .* within 1000 ms/);
  });
});

/** GETs or POSTs with grantguard's own token for the audience, as a raw REST client would. */
async function call(path: string, audience: "arm" | "graph", init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const credential = createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 });
  const token = await credential.getToken(audience === "arm" ? "https://management.azure.com/.default" : "https://graph.microsoft.com/.default");
  const response = await fetch(`${azure.local.simulator.url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${token!.token}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("events as Event Grid delivers them", () => {
  const events: ResourceEvent[] = [];
  beforeAll(() => azure.local.simulator.onResourceEvent((e) => events.push(e)));
  beforeEach(async () => {
    azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
    events.length = 0;
  });

  it("spells subject and resourceUri as the caller's request path did, while ARM returns the id in its own spelling", async () => {
    const name = "c0000003-0000-4000-8000-000000000003";
    const lowerRg = RG.toLowerCase();
    const created = await client.roleAssignments.create(lowerRg, name, { roleDefinitionId: READER, principalId: GUEST });
    const requested = `${lowerRg}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    expect(events.at(-1)).toMatchObject({ subject: requested, data: { resourceUri: requested } });
    expect(events.at(-1)!.data).not.toHaveProperty("httpRequest"); // only updates and deletes carry it
    expect(created.id).toBe(`${RG}/providers/Microsoft.Authorization/roleAssignments/${name}`);
    expect((await client.roleAssignments.getById(requested)).id).toBe(created.id);

    const granted = azure.local.simulator.grant({ scope: SUB, roleDefinitionId: READER, principalId: GUEST }, ADA, { casing: "lower" });
    expect(events.at(-1)!.subject).toBe(granted.id.toLowerCase());
    expect(granted.id).toMatch(/^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleAssignments\//);
    expect(azure.local.simulator.revoke(granted.id, ADA, { casing: (id) => id.replace("/providers/Microsoft.Authorization/", "/providers/microsoft.authorization/") })).toBe(true);
    expect(events.at(-1)).toMatchObject({ eventType: "Microsoft.Resources.ResourceDeleteSuccess", subject: granted.id.replace("/providers/Microsoft.Authorization/", "/providers/microsoft.authorization/"), data: { httpRequest: { method: "DELETE" } } });
  });

  it("emits nothing for assignments at a management group or the tenant root, which no Event Grid system topic covers", async () => {
    const mg = "/providers/Microsoft.Management/managementGroups/3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13";
    await client.roleAssignments.create(mg, "c0000004-0000-4000-8000-000000000004", { roleDefinitionId: READER, principalId: MEMBER });
    azure.local.simulator.grant({ scope: "/", roleDefinitionId: READER, principalId: GUEST }, ADA);
    await client.roleAssignments.delete(mg, "c0000004-0000-4000-8000-000000000004");
    expect(events).toEqual([]);
    azure.local.simulator.grant({ scope: SUB, roleDefinitionId: READER, principalId: GUEST }, ADA);
    expect(events.map((e) => e.topic)).toEqual([SUB]);
  });
});

describe("PIM as ARM serves it", () => {
  beforeEach(async () => {
    azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
  });

  it("lists a mirror instance for an assignment made directly, and drops it when the assignment is deleted", async () => {
    const name = "c0000005-0000-4000-8000-000000000005";
    const created = await client.roleAssignments.create(RG, name, { roleDefinitionId: OWNER, principalId: MEMBER });
    const mirror = (await all(client.roleAssignmentScheduleInstances.listForScope(RG, { filter: "atScope()" }))).find((i) => i.originRoleAssignmentId === created.id);
    expect(mirror).toMatchObject({ assignmentType: "Assigned", memberType: "Direct", principalId: MEMBER, scope: RG, status: "Provisioned" });
    expect(mirror!.endDateTime ?? null).toBeNull();
    expect(mirror!.linkedRoleEligibilityScheduleId).toBeUndefined();
    await client.roleAssignments.delete(RG, name);
    expect((await all(client.roleAssignmentScheduleInstances.listForScope(RG))).some((i) => i.originRoleAssignmentId === created.id)).toBe(false);
  });

  it("makes a mirror for every seeded assignment that lacks an instance, and refuses PIM (403) to a tenant with no PIM section", async () => {
    const snapshot = await readTenantSnapshot(fixture("tenants/small.json"));
    azure.local.simulator.reset({ ...snapshot, roleAssignmentScheduleInstances: [] });
    const instances = await all(client.roleAssignmentScheduleInstances.listForScope("/"));
    expect(instances.map((i) => i.originRoleAssignmentId).sort()).toEqual(snapshot.roleAssignments.map((a) => a.id).sort());
    const { roleAssignmentScheduleInstances: _omitted, ...noPim } = snapshot;
    azure.local.simulator.reset(noPim);
    await expect(all(client.roleAssignmentScheduleInstances.listForScope(SUB))).rejects.toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
  });

  it("lists PIM's requests with the filters their spec defines, and refuses others and api-versions PIM does not serve", async () => {
    const simulator = azure.local.simulator;
    const app = `${RG}/providers/Microsoft.Web/sites/app1`;
    const made = simulator.pimGrant({ scope: app, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" }, { requestType: "AdminAssign", endDateTime: "2027-01-01T00:00:00.000Z" }, ADA);
    const requests = await all(client.roleAssignmentScheduleRequests.listForScope(SUB, { filter: `principalId eq '${GUEST}'` }));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ requestType: "AdminAssign", status: "Provisioned", principalId: GUEST, scope: app, requestorId: ADA });
    // atScope() is at and above: the request sits below the resource group.
    expect(await all(client.roleAssignmentScheduleRequests.listForScope(RG, { filter: "atScope()" }))).toEqual([]);
    expect(await all(client.roleAssignmentScheduleRequests.listForScope(app, { filter: "atScope()" }))).toHaveLength(1);
    const instance = (await all(client.roleAssignmentScheduleInstances.listForScope(app, { filter: "atScope()" }))).find((i) => i.originRoleAssignmentId === made.id);
    expect(instance).toMatchObject({ assignmentType: "Assigned", endDateTime: new Date("2027-01-01T00:00:00.000Z"), roleAssignmentScheduleId: requests[0]!.targetRoleAssignmentScheduleId });
    await expect(all(client.roleAssignmentScheduleRequests.listForScope(RG, { filter: "roleDefinitionId eq 'x'" }))).rejects.toMatchObject({ statusCode: 400, code: "UnsupportedQuery" });
    expect((await call(`${RG}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances?api-version=2022-04-01`, "arm")).body).toMatchObject({ error: { code: "InvalidApiVersionParameter" } });
  });
});

describe("Microsoft Graph's property sets", () => {
  beforeEach(async () => {
    azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
  });

  it("returns a user's default properties only, unless $select names others", async () => {
    const plain = await call(`/v1.0/users/${GUEST}`, "graph");
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ id: GUEST, displayName: "Gil Guest (Fabrikam)", userPrincipalName: "gil_fabrikam.com#EXT#@contoso.onmicrosoft.com" });
    expect(Object.keys(plain.body)).not.toEqual(expect.arrayContaining(["userType"]));
    expect(plain.body).not.toHaveProperty("accountEnabled");
    expect(plain.body).not.toHaveProperty("createdDateTime");
    const selected = await call(`/v1.0/users/${GUEST}?$select=id,userType,accountEnabled`, "graph");
    expect(selected.body).toEqual({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userType,accountEnabled)/$entity", id: GUEST, userType: "Guest", accountEnabled: true });
    expect((await call(`/v1.0/users/${GUEST}?$select=appId`, "graph")).status).toBe(400);
  });

  it("on a directoryObject path needs the type-cast form for a user's property, and getByIds takes $select over every type", async () => {
    expect((await call(`/v1.0/directoryObjects/${GUEST}?$select=userType`, "graph")).body).toMatchObject({ error: { code: "BadRequest" } });
    const cast = await call(`/v1.0/directoryObjects/${GUEST}?$select=id,microsoft.graph.user/userType`, "graph");
    expect(cast.body).toMatchObject({ "@odata.type": "#microsoft.graph.user", id: GUEST, userType: "Guest" });
    const plain = await call("/v1.0/directoryObjects/getByIds", "graph", { method: "POST", body: { ids: [GUEST] } });
    expect((plain.body.value as Record<string, unknown>[])[0]).not.toHaveProperty("userType");
    const selected = await call("/v1.0/directoryObjects/getByIds?$select=id,userType,appId", "graph", { method: "POST", body: { ids: [GUEST, "eeeeeeee-0000-4000-8000-000000000005"] } });
    expect(selected.body.value).toEqual([
      { "@odata.type": "#microsoft.graph.user", id: GUEST, userType: "Guest" },
      { "@odata.type": "#microsoft.graph.servicePrincipal", id: "eeeeeeee-0000-4000-8000-000000000005", appId: "e1e1e1e1-0000-4000-8000-000000000015" },
    ]);
  });

  it("hides a principal that has not replicated for the reads it was given, and ARM refuses it unless the caller names its principalType", async () => {
    const id = randomUUID();
    azure.local.simulator.addPrincipal({ "@odata.type": "#microsoft.graph.user", id, displayName: "New Hire", userPrincipalName: "new.hire@contoso.com", userType: "Member", accountEnabled: true, createdDateTime: null }, { reads: 2 });
    await expect(client.roleAssignments.create(RG, randomUUID(), { roleDefinitionId: READER, principalId: id })).rejects.toMatchObject({ statusCode: 400, code: "PrincipalNotFound" });
    expect(await client.roleAssignments.create(RG, randomUUID(), { roleDefinitionId: READER, principalId: id, principalType: "User" })).toMatchObject({ principalId: id, principalType: "User" });
    expect(await principals.getById(id)).toBeNull();
    expect(await principals.getById(id)).toBeNull();
    expect(await principals.getById(id)).toMatchObject({ id, userType: "Member" });
  });
});
