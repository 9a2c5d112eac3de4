import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// The simulator's deployment slices (Event Grid system topics, Web Apps' app settings, Graph app
// role grants) are never kinder than Azure: tokens, api-versions, unknown groups and read-only
// routes are refused as the services refuse them (local/simulator/README.md).

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const RG = `${SUB}/resourceGroups/rg-grantguard`;
const APP = `${RG}/providers/Microsoft.Web/sites/func-grantguard-x7k2`;
const TOPICS = `${RG}/providers/Microsoft.EventGrid/systemTopics`;

let azure: TestAzure;
let arm: string;
let graph: string;
beforeAll(async () => {
  azure = await startTestAzure("tenants/deployment.json");
  const credential = createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 });
  arm = (await credential.getToken("https://management.azure.com/.default"))!.token;
  graph = (await credential.getToken("https://graph.microsoft.com/.default"))!.token;
});
afterAll(async () => {
  await azure?.stop();
});

async function call(method: string, path: string, token: string | null = arm): Promise<{ status: number; body: { error?: { code?: string }; value?: unknown[]; properties?: Record<string, string> } }> {
  const response = await fetch(`${azure.local.simulator.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

describe("Event Grid system topics", () => {
  it("lists a resource group's system topics with a stable api-version, refuses a missing or preview one, and deploys nothing", async () => {
    const listed = await call("GET", `${TOPICS}?api-version=2025-02-15`);
    expect(listed.status).toBe(200);
    expect(listed.body.value).toHaveLength(1);
    // Read-only: what doctor reads is served; a deployment through this simulator is not.
    expect((await call("PUT", `${TOPICS}/grantguard-11111111-1111-4111-8111-111111111111/eventSubscriptions/x?api-version=2025-02-15`)).status).toBe(404);
    expect((await call("GET", TOPICS)).body.error?.code).toBe("MissingApiVersionParameter");
    expect((await call("GET", `${TOPICS}?api-version=2023-12-15-preview`)).body.error?.code).toBe("InvalidApiVersionParameter");
  });

  it("answers 401 without a token and 404 ResourceGroupNotFound for a group it does not know", async () => {
    expect((await call("GET", `${TOPICS}?api-version=2025-02-15`, null)).status).toBe(401);
    const unknown = await call("GET", `${SUB}/resourceGroups/rg-nope/providers/Microsoft.EventGrid/systemTopics?api-version=2025-02-15`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe("ResourceGroupNotFound");
  });
});

describe("Web Apps application settings", () => {
  it("answers POST …/config/appsettings/list with the values as configured (Key Vault references unresolved), and nothing to a GET", async () => {
    const listed = await call("POST", `${APP}/config/appsettings/list?api-version=2024-04-01`);
    expect(listed.status).toBe(200);
    expect(listed.body.properties?.GRANTGUARD_TEAMS_WEBHOOK_URL).toBe("@Microsoft.KeyVault(VaultName=kv-gg-x7k2;SecretName=teams-webhook-url)");
    expect((await call("GET", `${APP}/config/appsettings/list?api-version=2024-04-01`)).status).toBe(404);
    expect((await call("POST", `${RG}/providers/Microsoft.Web/sites/other/config/appsettings/list?api-version=2024-04-01`)).body.error?.code).toBe("ResourceNotFound");
  });
});

describe("Graph service principals", () => {
  it("finds a service principal by appId and lists its app role grants; 404 for an unknown one", async () => {
    const byAppId = await call("GET", "/v1.0/servicePrincipals(appId='8d1e5a7c-3b2f-4c6d-9a0e-1f4b7c2d5e68')", graph);
    expect(byAppId.status).toBe(200);
    const grants = await call("GET", "/v1.0/servicePrincipals/6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40/appRoleAssignments", graph);
    expect(grants.body.value).toHaveLength(4);
    const unknown = await call("GET", "/v1.0/servicePrincipals/00000000-0000-4000-8000-000000000000/appRoleAssignments", graph);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe("Request_ResourceNotFound");
    expect((await call("GET", "/v1.0/servicePrincipals/6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40/appRoleAssignments", arm)).status).toBe(401);
    // A malformed escape is a bad request path, never a server error.
    expect((await call("GET", "/v1.0/servicePrincipals/%E0%A4%A/appRoleAssignments", graph)).status).toBe(404);
  });
});
