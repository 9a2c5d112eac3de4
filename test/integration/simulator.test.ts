import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthorizationClient } from "../../shared/azure/arm.js";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { createGraphClient, GraphPrincipals } from "../../shared/azure/graph.js";
import type { ResourceEvent } from "../../local/simulator/server.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// The simulator as the real SDK clients see it: REST shapes, filters, paging, errors.

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const RG = `${SUB}/resourceGroups/rg-app`;
const READER = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
const MEMBER = "cccccccc-0000-4000-8000-000000000003";

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
