import { fileURLToPath } from "node:url";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuthorizationClient } from "../../shared/azure/arm.js";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { createResourceGraphClient, ResourceGraphInventory, type QuotaClock } from "../../shared/azure/resourceGraph.js";
import type { RoleAssignment } from "../../shared/model/access.js";
import { readTenantSnapshot, type TenantSnapshot } from "../../shared/model/snapshot.js";
import { statusOf } from "../../shared/errors.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// The inventory's .kql files, run by the real @azure/arm-resourcegraph client against the local
// Resource Graph (paging, skip tokens, the per-user quota), plus the root-scope assignments from
// ARM through @azure/arm-authorization.

const DEMO = fileURLToPath(new URL("../../local/demo/tenant.json", import.meta.url));
const credential = createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 });

let azure: TestAzure;
let endpoint: string;
beforeAll(async () => {
  azure = await startTestAzure();
  endpoint = azure.local.settings.GRANTGUARD_ARM_ENDPOINT!;
});
afterAll(async () => {
  await azure?.stop();
});

async function seed(path: string): Promise<TenantSnapshot> {
  const snapshot = await readTenantSnapshot(path);
  azure.local.simulator.reset(snapshot);
  return snapshot;
}

function inventory(options: { pageSize?: number; clock?: QuotaClock } = {}): ResourceGraphInventory {
  return new ResourceGraphInventory(createResourceGraphClient(credential, endpoint, options.clock), createAuthorizationClient(credential, endpoint), { pageSize: options.pageSize });
}

async function allPages(inv: ResourceGraphInventory): Promise<RoleAssignment[][]> {
  const pages: RoleAssignment[][] = [];
  for await (const page of inv.listRoleAssignments()) pages.push([...page]);
  return pages;
}

const lower = (ids: readonly string[]) => ids.map((id) => id.toLowerCase());
const graphRequests = () => azure.local.simulator.requests.filter((r) => r.route === "resourceGraph.resources");

describe("the tenant inventory through Resource Graph", () => {
  beforeEach(() => {
    azure.local.simulator.requests.length = 0;
  });

  for (const [name, path] of [["the small tenant", fixture("tenants/small.json")], ["the demo tenant", DEMO]] as const) {
    it(`lists every role assignment and definition of ${name} exactly once, equal to the snapshot`, async () => {
      const snapshot = await seed(path);
      const pages = await allPages(inventory());
      const listed = pages.flat();
      expect(lower(listed.map((a) => a.id)).sort()).toEqual(lower(snapshot.roleAssignments.map((a) => a.id)).sort());
      expect(new Set(lower(listed.map((a) => a.id))).size).toBe(listed.length);
      const byId = new Map(snapshot.roleAssignments.map((a) => [a.id.toLowerCase(), a]));
      for (const a of listed) {
        const original = byId.get(a.id.toLowerCase())!;
        expect(a).toMatchObject({ scope: original.properties.scope, principalId: original.properties.principalId, roleDefinitionId: original.properties.roleDefinitionId, principalType: original.properties.principalType });
      }
      // Resource Graph's pages come in id order; the root-scope assignments ARM adds come last.
      const fromGraph = listed.filter((a) => a.scope !== "/").map((a) => a.id);
      expect(fromGraph).toEqual([...fromGraph].sort());
      const definitions = await inventory().listRoleDefinitions();
      expect(lower(definitions.map((d) => d.id)).sort()).toEqual(lower(snapshot.roleDefinitions.map((d) => d.id)).sort());
      const roleNames = new Map(snapshot.roleDefinitions.map((d) => [d.id.toLowerCase(), d.properties.roleName]));
      for (const d of definitions) expect(d.roleName).toBe(roleNames.get(d.id.toLowerCase()));
    });
  }

  it("reads the root-scope assignments from ARM, since Resource Graph does not hold them", async () => {
    const snapshot = await seed(DEMO);
    const root = snapshot.roleAssignments.filter((a) => a.properties.scope === "/");
    expect(root.length).toBeGreaterThan(0);
    const listed = (await allPages(inventory())).flat();
    expect(lower(listed.filter((a) => a.scope === "/").map((a) => a.id)).sort()).toEqual(lower(root.map((a) => a.id)).sort());
    expect(azure.local.simulator.requests.some((r) => r.route === "arm.roleAssignments.list")).toBe(true);
  });

  it("pages with a small page size to the end, and the pages add up to the unpaged count", async () => {
    const snapshot = await seed(DEMO);
    // Sixty-odd pages: a quota that does not throttle keeps this about paging (quota has its own tests).
    azure.local.simulator.resourceGraph.quota = { queries: 1_000, windowMs: 1_000 };
    const pages = await allPages(inventory({ pageSize: 7 }));
    const nonRoot = snapshot.roleAssignments.filter((a) => a.properties.scope !== "/").length;
    const graphPages = Math.ceil(nonRoot / 7);
    expect(pages.slice(0, graphPages).every((p) => p.length <= 7)).toBe(true);
    expect(pages.flat()).toHaveLength(snapshot.roleAssignments.length);
    expect(lower(pages.flat().map((a) => a.id)).sort()).toEqual(lower((await allPages(inventory())).flat().map((a) => a.id)).sort());
    expect(graphRequests()).toHaveLength(graphPages + 1);
  });

  it("waits out a spent quota instead of failing: 10 pages with 3 queries per window", async () => {
    const snapshot = await seed(fixture("tenants/small.json"));
    azure.local.simulator.resourceGraph.quota = { queries: 3, windowMs: 1_000 };
    const nonRoot = snapshot.roleAssignments.filter((a) => a.properties.scope !== "/").length;
    const pageSize = Math.ceil(nonRoot / 10);
    const started = Date.now();
    const listed = (await allPages(inventory({ pageSize }))).flat();
    expect(listed).toHaveLength(snapshot.roleAssignments.length);
    const answers = graphRequests();
    expect(answers.filter((r) => r.status === 200)).toHaveLength(Math.ceil(nonRoot / pageSize));
    // The policy reads the quota headers and waits for the reset: the service never had to refuse.
    expect(answers.filter((r) => r.status === 429)).toHaveLength(0);
    // Ten-ish pages at three per second cannot finish in under two windows.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  }, 30_000);

  it("honours the 429's Retry-After when other callers spent the quota", async () => {
    await seed(fixture("tenants/small.json"));
    azure.local.simulator.resourceGraph.quota = { queries: 2, windowMs: 1_000 };
    const bare = new ResourceGraphClient(credential, { endpoint, credentials: { scopes: ["https://management.azure.com/.default"] } });
    // A client without the policy spends the window; the inventory's first request gets a 429 and waits.
    await bare.resources({ query: "authorizationresources | project id | order by id asc" });
    await bare.resources({ query: "authorizationresources | project id | order by id asc" });
    const definitions = await inventory().listRoleDefinitions();
    expect(definitions.length).toBeGreaterThan(0);
    expect(graphRequests().some((r) => r.status === 429)).toBe(true);
  }, 30_000);
});

describe("the local Resource Graph's answers", () => {
  beforeEach(async () => {
    await seed(fixture("tenants/small.json"));
  });

  it("sends the quota headers on every answer", async () => {
    azure.local.simulator.resourceGraph.quota = { queries: 5, windowMs: 5_000 };
    const headers: (string | undefined)[][] = [];
    const client = new ResourceGraphClient(credential, { endpoint, credentials: { scopes: ["https://management.azure.com/.default"] } });
    client.pipeline.addPolicy({ name: "capture", sendRequest: async (req, next) => { const res = await next(req); headers.push([res.headers.get("x-ms-user-quota-remaining"), res.headers.get("x-ms-user-quota-resets-after")]); return res; } });
    await client.resources({ query: "authorizationresources | project id | order by id asc" });
    await client.resources({ query: "authorizationresources | project id | order by id asc" });
    expect(headers.map((h) => h[0])).toEqual(["4", "3"]);
    for (const [, resets] of headers) expect(resets).toMatch(/^00:00:0[1-5]$/);
  });

  it("answers an unsupported operator with ARG's 400 and its details", async () => {
    const client = new ResourceGraphClient(credential, { endpoint, credentials: { scopes: ["https://management.azure.com/.default"] } });
    const error = await client.resources({ query: "authorizationresources | mv-expand properties | project id" }).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(400);
    // The SDK deserializes ARG's error body into `details`.
    const body = (error as { details?: { error?: { code?: string; details?: { code: string }[] } } }).details;
    expect(body?.error?.code).toBe("BadRequest");
    expect(body?.error?.details?.[0]?.code).toBe("InvalidQuery");
    expect(body?.error?.details?.[1]).toMatchObject({ code: "InvalidQueryLanguage", additionalProperties: { token: "mv-expand" } });
  });

  it("refuses a $top over 1,000", async () => {
    const client = new ResourceGraphClient(credential, { endpoint, credentials: { scopes: ["https://management.azure.com/.default"] } });
    const error = await client.resources({ query: "authorizationresources | project id", options: { top: 1001 } }).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(400);
  });

  it("gives no skip token when the query takes its own rows, and marks the answer truncated", async () => {
    const client = new ResourceGraphClient(credential, { endpoint, credentials: { scopes: ["https://management.azure.com/.default"] } });
    const answer = await client.resources({ query: "authorizationresources | order by id asc | take 5 | project id", options: { top: 2 } });
    expect(answer).toMatchObject({ totalRecords: 5, count: 2, resultTruncated: "true" });
    expect(answer.skipToken).toBeUndefined();
  });

  it("filters by subscription: only the rows at or below it", async () => {
    const snapshot = azure.local.simulator.state;
    const sub = [...snapshot.assignments.values()].map((a) => /^\/subscriptions\/([^/]+)/i.exec(a.properties.scope)?.[1]).find((s) => s !== undefined)!;
    const client = new ResourceGraphClient(credential, { endpoint, credentials: { scopes: ["https://management.azure.com/.default"] } });
    const answer = await client.resources({ subscriptions: [sub], query: "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | extend scope = tostring(properties.scope) | project id, scope | order by id asc" });
    const scopes = (answer.data as { scope: string }[]).map((r) => r.scope.toLowerCase());
    expect(scopes.length).toBeGreaterThan(0);
    expect(scopes.every((s) => s.startsWith(`/subscriptions/${sub.toLowerCase()}`))).toBe(true);
  });

  it("answers a grant and a delete made after an earlier query, while a paged read begun before keeps the rows it started with", async () => {
    const snapshot = await seed(DEMO);
    azure.local.simulator.resourceGraph.quota = { queries: 1_000, windowMs: 1_000 };
    const client = new ResourceGraphClient(credential, { endpoint, credentials: { scopes: ["https://management.azure.com/.default"] } });
    const query = "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | project id | order by id asc";
    const ids = async () => {
      const all: string[] = [];
      let skipToken: string | undefined;
      do {
        const answer = await client.resources({ query, options: { top: 1_000, ...(skipToken ? { skipToken } : {}) } });
        all.push(...(answer.data as { id: string }[]).map((r) => r.id.toLowerCase()));
        skipToken = answer.skipToken;
      } while (skipToken);
      return all;
    };
    const before = await ids();
    const firstPage = await client.resources({ query, options: { top: 100 } });
    const target = snapshot.roleAssignments.find((a) => a.properties.scope.startsWith("/subscriptions/"))!;
    const granted = azure.local.simulator.grant({ scope: target.properties.scope, roleDefinitionId: target.properties.roleDefinitionId, principalId: "5b9d1f3a-6c8e-4d2b-a7f1-3e5c7a9b1d24", principalType: "User" }, "0a6d3f1b-7c2e-4b59-8e1d-4f6a2b3c9d71");
    // Behind ARM's back too: Resource Graph reads the tenant as it now is.
    azure.local.simulator.state.assignments.delete(target.id.toLowerCase());
    const after = await ids();
    expect(after).toContain(granted.id.toLowerCase());
    expect(after).not.toContain(target.id.toLowerCase());
    expect(after).toHaveLength(before.length);
    // The read begun before the change pages on through the result it started with.
    let skipToken = firstPage.skipToken;
    const rest: string[] = [];
    while (skipToken) {
      const answer = await client.resources({ query, options: { skipToken } });
      rest.push(...(answer.data as { id: string }[]).map((r) => r.id.toLowerCase()));
      skipToken = answer.skipToken;
    }
    expect([...(firstPage.data as { id: string }[]).map((r) => r.id.toLowerCase()), ...rest]).toEqual(before);
  });

  it("refuses a request without a token with 401", async () => {
    const response = await fetch(`${endpoint}/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "authorizationresources" }) });
    expect(response.status).toBe(401);
  });
});
