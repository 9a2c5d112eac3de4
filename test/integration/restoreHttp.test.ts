import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { getRuntime } from "../../shared/runtime.js";
import { DevHost, type HostLog } from "../../local/devhost.js";
import { GRANTGUARD_API_CLIENT_ID } from "../../local/localAzure.js";
import type { TokenForgery, UserTokenRequest } from "../../local/simulator/entra.js";
import { readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// POST /api/revocations/{id}/restore through the dev host, with tokens the simulator issues as the
// tenant's Entra ID: the function validates them against the simulator's OpenID metadata and JWKS.

const GUEST_OWNER = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001";
const PACK = `${fileURLToPath(new URL("../../policies", import.meta.url))},${fileURLToPath(new URL("../../local/demo/revoke-pack", import.meta.url))}`;
// Mia holds User Access Administrator on the subscription: her own rights can recreate the assignment.
const MIA = "cccccccc-0000-4000-8000-000000000003";
const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const ADMIN = ["GrantGuard.SecurityAdmin"];
const REASON = { reason: "Fabrikam contract renewed, CAB-42" };

let azure: TestAzure;
let host: DevHost;
let revocationId: string;
const logs: HostLog[] = [];

beforeAll(async () => {
  azure = await startTestAzure();
  // The functions read their settings from the environment, as in Azure.
  Object.assign(process.env, { GRANTGUARD_MODE: "enforce", GRANTGUARD_POLICIES_DIR: PACK });
  host = new DevHost((log) => logs.push(log));
  await host.start();
  const outcome = await (await getRuntime()).judgeGrantEvent(await readFixture("events/guest-owner-write.json"));
  revocationId = (outcome.status === "judged" && outcome.revocation?.id) || "";
  expect(revocationId).not.toBe("");
  expect(azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase())).toBe(false);
});
afterAll(async () => {
  await host?.stop();
  await azure?.stop();
});

const apiToken = (request: Partial<UserTokenRequest> = {}, forgery?: TokenForgery) => azure.local.simulator.entra.issueUserToken({ userId: MIA, audience: GRANTGUARD_API_CLIENT_ID, roles: ADMIN, ...request }, forgery);
const armToken = (userId = MIA) => azure.local.simulator.entra.issueUserToken({ userId, audience: "https://management.azure.com" });
const post = (id: string, headers: Record<string, string>, body: unknown = REASON) =>
  fetch(host.httpUrl(`revocations/${encodeURIComponent(id)}/restore`), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const answer = async (response: Response) => ({ status: response.status, challenge: response.headers.get("www-authenticate"), body: (await response.json()) as unknown });
const restored = () => azure.local.simulator.state.assignments.has(GUEST_OWNER.toLowerCase());
// What App Service Authentication would inject; with the module off, anyone can send it.
const forgedPrincipal = Buffer.from(JSON.stringify({ auth_typ: "aad", name_typ: "name", role_typ: "roles", claims: [{ typ: "name", val: "secops@contoso.com" }, { typ: "roles", val: "GrantGuard.SecurityAdmin" }] })).toString("base64");

describe("restore over HTTP: who may call", () => {
  it("answers 401 with a Bearer challenge to a call without a token, for an existing and an unknown id alike", async () => {
    const existing = await answer(await post(revocationId, {}));
    expect(existing).toMatchObject({ status: 401, challenge: 'Bearer realm="grantguard"' });
    expect(await answer(await post("no-such-revocation", {}))).toEqual(existing);
  });

  it("does not trust a forged x-ms-client-principal: 401 without a valid token, and nothing is restored", async () => {
    const forged = await answer(await post(revocationId, { "x-ms-client-principal": forgedPrincipal, "x-ms-token-aad-access-token": armToken(), "x-grantguard-arm-token": armToken() }));
    expect(forged.status).toBe(401);
    expect(restored()).toBe(false);
    // Nor does a forged principal make a token without the role acceptable.
    const withReaderToken = await post(revocationId, { "x-ms-client-principal": forgedPrincipal, authorization: `Bearer ${apiToken({ roles: [] })}`, "x-grantguard-arm-token": armToken() });
    expect(withReaderToken.status).toBe(403);
    expect(restored()).toBe(false);
  });

  it("answers 401 to expired, wrong-audience, wrong-issuer, v1.0, foreign-signed, unknown-key and unsigned tokens, telling none apart", async () => {
    const { tid } = JSON.parse(Buffer.from(apiToken().split(".")[1]!, "base64url").toString("utf8")) as { tid: string };
    const bad = {
      expired: apiToken({ expiresInSeconds: -120 }),
      "another API's": apiToken({ audience: "0d6b3d6c-5b6e-4a8e-9a1f-7c2d4e6f8a01" }),
      "ARM's": azure.local.simulator.entra.issueUserToken({ userId: MIA, audience: "https://management.azure.com", roles: ADMIN }),
      "another issuer's": apiToken({}, { issuer: `https://login.microsoftonline.com/${tid}/v2.0` }),
      "a v1.0 token for the API": apiToken({ version: 1 }),
      "signed by a foreign key under the real kid": apiToken({}, { signature: "foreignKey" }),
      "signed by a key the JWKS never had": apiToken({}, { signature: "unknownKey" }),
      "alg none": apiToken({}, { signature: "none" }),
      "not a JWT": "not-a-jwt",
    };
    const answers = await Promise.all(Object.entries(bad).map(async ([kind, token]) => ({ kind, ...(await answer(await post(revocationId, { authorization: `Bearer ${token}`, "x-grantguard-arm-token": armToken() }))) })));
    for (const a of answers) expect(a, a.kind).toMatchObject({ status: 401, challenge: 'Bearer realm="grantguard", error="invalid_token"', body: { error: "the access token was not accepted" } });
    expect(restored()).toBe(false);
    // Each was refused for its own reason, which stays in the function's log.
    const reasons = logs.filter((l) => l.message.includes("HTTP 401")).map((l) => l.message);
    for (const reason of ["ERR_JWT_EXPIRED", 'unexpected "aud"', 'unexpected "iss"', "ERR_JWS_SIGNATURE_VERIFICATION_FAILED", "ERR_JWKS_NO_MATCHING_KEY", "ERR_JOSE_ALG_NOT_ALLOWED", "ERR_JWS_INVALID"]) {
      expect(reasons.some((r) => r.includes(reason)), reason).toBe(true);
    }
  });

  it("answers 403 to a valid token without the app role, the same for an existing and an unknown id", async () => {
    const auditor = apiToken({ userId: ADA, roles: ["GrantGuard.Auditor"] });
    const existing = await answer(await post(revocationId, { authorization: `Bearer ${auditor}`, "x-grantguard-arm-token": armToken(ADA) }));
    expect(existing).toMatchObject({ status: 403, body: { error: "restoring needs the app role GrantGuard.SecurityAdmin" } });
    expect(await answer(await post("no-such-revocation", { authorization: `Bearer ${auditor}`, "x-grantguard-arm-token": armToken(ADA) }))).toEqual(existing);
    expect(await answer(await post("no-such-revocation", { authorization: `Bearer ${auditor}` }, { reason: "x" }))).toEqual(existing);
    expect(restored()).toBe(false);
  });
});

describe("restore over HTTP: a security admin with their own ARM token", () => {
  it("needs a reason and the caller's own ARM token, not another user's or grantguard's", async () => {
    const admin = { authorization: `Bearer ${apiToken()}` };
    expect((await post(revocationId, { ...admin, "x-grantguard-arm-token": armToken() }, { reason: "ok" })).status).toBe(400);
    const missing = await answer(await post(revocationId, admin));
    expect(missing).toMatchObject({ status: 400, body: { error: expect.stringContaining("x-grantguard-arm-token") } });
    expect((await post(revocationId, { ...admin, "x-grantguard-arm-token": armToken(ADA) })).status).toBe(403);
    const grantguards = (await createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 }).getToken("https://management.azure.com/.default"))!.token;
    expect((await post(revocationId, { ...admin, "x-grantguard-arm-token": grantguards })).status).toBe(403);
    expect(restored()).toBe(false);
  });

  it("restores with the caller's rights and records the token's user; again is a no-op; an unknown id is 404", async () => {
    const headers = { authorization: `Bearer ${apiToken()}`, "x-grantguard-arm-token": armToken() };
    const ok = await answer(await post(revocationId, headers));
    expect(ok).toMatchObject({ status: 200, body: { status: "restored", revocation: { restoredBy: `mia@contoso.com (${MIA})`, restoreReason: REASON.reason } } });
    expect(restored()).toBe(true);
    // ARM recorded the caller, not grantguard, as the one who recreated it.
    expect(azure.local.simulator.state.assignments.get(GUEST_OWNER.toLowerCase())?.properties.updatedBy).toBe(MIA);
    expect(await answer(await post(revocationId, headers))).toMatchObject({ status: 200, body: { status: "alreadyRestored" } });
    expect(await answer(await post("no-such-revocation", headers))).toMatchObject({ status: 404, body: { error: expect.stringContaining("no revocation") } });
  });
});
