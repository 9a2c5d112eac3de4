import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { getRuntime } from "../../shared/runtime.js";
import { DevHost } from "../../local/devhost.js";
import { readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// POST /api/revocations/{id}/restore through the dev host, with the headers App Service
// Authentication adds in front of the function app.

const GUEST_OWNER = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001";
const PACK = `${fileURLToPath(new URL("../../policies", import.meta.url))},${fileURLToPath(new URL("../../local/demo/revoke-pack", import.meta.url))}`;

let azure: TestAzure;
let host: DevHost;
beforeAll(async () => {
  azure = await startTestAzure();
  // The functions read their settings from the environment, as in Azure.
  Object.assign(process.env, { GRANTGUARD_MODE: "enforce", GRANTGUARD_POLICIES_DIR: PACK });
  host = new DevHost(() => undefined);
  await host.start();
});
afterAll(async () => {
  await host?.stop();
  await azure?.stop();
});

const principal = (roles: string[]) =>
  Buffer.from(JSON.stringify({ auth_typ: "aad", name_typ: "name", role_typ: "roles", claims: [{ typ: "name", val: "secops@contoso.com" }, ...roles.map((val) => ({ typ: "roles", val }))] })).toString("base64");

describe("restore over HTTP", () => {
  it("restores for a security admin with their own token, and refuses everyone else with a reason", async () => {
    const runtime = await getRuntime();
    const outcome = await runtime.judgeGrantEvent(await readFixture("events/guest-owner-write.json"));
    const id = outcome.status === "judged" ? outcome.revocation?.id : undefined;
    expect(id).toBeDefined();
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(false);

    const token = (await createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 }).getToken("https://management.azure.com/.default"))!.token;
    const post = (headers: Record<string, string>, body: unknown = { reason: "Fabrikam contract renewed, CAB-42" }) =>
      fetch(host.httpUrl(`revocations/${id}/restore`), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

    expect((await post({})).status).toBe(401);
    expect((await post({ "x-ms-client-principal": principal(["GrantGuard.Auditor"]), "x-ms-token-aad-access-token": token })).status).toBe(403);
    const noToken = await post({ "x-ms-client-principal": principal(["GrantGuard.SecurityAdmin"]) });
    expect(noToken.status).toBe(403);
    expect(await noToken.json()).toMatchObject({ error: expect.stringContaining("your own Azure credentials") });
    expect((await post({ "x-ms-client-principal": principal(["GrantGuard.SecurityAdmin"]), "x-ms-token-aad-access-token": token }, { reason: "ok" })).status).toBe(400);

    const ok = await post({ "x-ms-client-principal": principal(["GrantGuard.SecurityAdmin"]), "x-ms-token-aad-access-token": token });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "restored", revocation: { restoredBy: "secops@contoso.com", restoreReason: "Fabrikam contract renewed, CAB-42" } });
    expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(true);
    expect((await (await fetch(host.httpUrl("revocations/nope/restore"), { method: "POST", headers: { "x-ms-client-principal": principal(["GrantGuard.SecurityAdmin"]), "x-ms-token-aad-access-token": token }, body: JSON.stringify({ reason: "Fabrikam contract renewed" }) })).json()) as unknown).toMatchObject({ error: expect.stringContaining("no revocation") });
  });
});
