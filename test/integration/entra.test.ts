import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, X509Certificate } from "node:crypto";
import { createLocalJWKSet, jwtVerify } from "jose";
import type { TokenCredential } from "@azure/identity";
import { createAuthorizationClient } from "../../shared/azure/arm.js";
import { GRANTGUARD_API_CLIENT_ID } from "../../local/localAzure.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// The simulator as the tenant's Entra ID: OpenID metadata, JWKS, tokens, and ARM accepting them.

const TENANT = "3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13";
const MIA = "cccccccc-0000-4000-8000-000000000003";
const DAN_DISABLED = "dddddddd-0000-4000-8000-000000000004";
const RG = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app";
const READER = "/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";

let azure: TestAzure;
beforeAll(async () => {
  azure = await startTestAzure();
});
afterAll(async () => {
  await azure?.stop();
});

const sim = () => azure.local.simulator;
const getJson = async (path: string, init?: RequestInit) => {
  const response = await fetch(`${sim().url}${path}`, init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
};
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString("utf8")) as Record<string, unknown>;
const credentialFor = (token: string): TokenCredential => ({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) });

describe("the local Entra ID", () => {
  it("serves the tenant's v2.0 OpenID metadata: its issuer, and keys and token endpoint under the same tenant", async () => {
    const { status, body } = await getJson(`/${TENANT}/v2.0/.well-known/openid-configuration`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      issuer: `${sim().url}/${TENANT}/v2.0`,
      jwks_uri: `${sim().url}/${TENANT}/discovery/v2.0/keys`,
      token_endpoint: `${sim().url}/${TENANT}/oauth2/v2.0/token`,
      id_token_signing_alg_values_supported: ["RS256"],
      subject_types_supported: ["pairwise"],
    });
  });

  it("publishes its signing key as Entra does: kid = x5t = the SHA-1 thumbprint of the x5c certificate, which holds the same key", async () => {
    const { body } = await getJson(`/${TENANT}/discovery/v2.0/keys`);
    const keys = body.keys as Record<string, unknown>[];
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    expect(key).toMatchObject({ kty: "RSA", use: "sig", e: "AQAB", issuer: `${sim().url}/${TENANT}/v2.0` });
    const certificate = new X509Certificate(Buffer.from((key.x5c as string[])[0]!, "base64"));
    expect(key.kid).toBe(createHash("sha1").update(certificate.raw).digest("base64url"));
    expect(key.x5t).toBe(key.kid);
    expect(certificate.publicKey.export({ format: "jwk" }).n).toBe(key.n);
  });

  it("issues v2.0 tokens for an API and v1.0 tokens for ARM, each verifiable with the published keys", async () => {
    const { body } = await getJson(`/${TENANT}/discovery/v2.0/keys`);
    const jwks = createLocalJWKSet(body as unknown as Parameters<typeof createLocalJWKSet>[0]);
    const api = sim().entra.issueUserToken({ userId: "mia@contoso.com", audience: GRANTGUARD_API_CLIENT_ID, roles: ["GrantGuard.SecurityAdmin"] });
    const { payload } = await jwtVerify(api, jwks, { issuer: `${sim().url}/${TENANT}/v2.0`, audience: GRANTGUARD_API_CLIENT_ID, algorithms: ["RS256"] });
    expect(payload).toMatchObject({ ver: "2.0", tid: TENANT, oid: MIA, preferred_username: "mia@contoso.com", name: "Mia Member", roles: ["GrantGuard.SecurityAdmin"], scp: "user_impersonation" });
    expect(headerOf(api)).not.toHaveProperty("x5t");
    const arm = sim().entra.issueUserToken({ userId: MIA, audience: "https://management.azure.com", version: 2 });
    expect(claimsOf(arm)).toMatchObject({ ver: "1.0", iss: `https://sts.windows.net/${TENANT}/`, aud: "https://management.azure.com", upn: "mia@contoso.com", oid: MIA });
    expect(headerOf(arm)).toMatchObject({ alg: "RS256", x5t: headerOf(arm).kid });
    await expect(jwtVerify(arm, jwks, { algorithms: ["RS256"] })).resolves.toBeDefined();
  });

  it("answers another tenant with invalid_tenant (AADSTS90002) and every OAuth grant with unsupported_grant_type", async () => {
    const other = await getJson(`/0d6b3d6c-5b6e-4a8e-9a1f-7c2d4e6f8a01/v2.0/.well-known/openid-configuration`);
    expect(other).toMatchObject({ status: 400, body: { error: "invalid_tenant", error_codes: [90002] } });
    expect(String(other.body.error_description)).toMatch(/^AADSTS90002: Tenant '0d6b3d6c-5b6e-4a8e-9a1f-7c2d4e6f8a01' not found/);
    const grant = await getJson(`/${TENANT}/oauth2/v2.0/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=password&username=mia%40contoso.com&password=x&client_id=x&scope=openid" });
    expect(grant).toMatchObject({ status: 400, body: { error: "unsupported_grant_type", error_codes: [70003] } });
  });

  it("issues tokens only to existing, enabled users, and v2.0 tokens only for a client id", () => {
    expect(() => sim().entra.issueUserToken({ userId: "nobody@contoso.com", audience: GRANTGUARD_API_CLIENT_ID })).toThrow(/AADSTS50034/);
    expect(() => sim().entra.issueUserToken({ userId: DAN_DISABLED, audience: GRANTGUARD_API_CLIENT_ID })).toThrow(/AADSTS50057/);
    expect(() => sim().entra.issueUserToken({ userId: "eeeeeeee-0000-4000-8000-000000000005", audience: GRANTGUARD_API_CLIENT_ID })).toThrow(/AADSTS50034/);
    expect(() => sim().entra.issueUserToken({ userId: MIA, audience: "api://grantguard" })).toThrow(/client id as aud/);
  });

  it("issues a demo user's token at POST /_simulator/tokens, and explains bad input", async () => {
    const ok = await getJson("/_simulator/tokens", { method: "POST", body: JSON.stringify({ userId: "mia@contoso.com", audience: GRANTGUARD_API_CLIENT_ID, roles: ["GrantGuard.SecurityAdmin"] }) });
    expect(ok).toMatchObject({ status: 200, body: { token_type: "Bearer", expires_in: 3600 } });
    expect(claimsOf(String(ok.body.access_token))).toMatchObject({ oid: MIA, roles: ["GrantGuard.SecurityAdmin"] });
    // curl -d labels its JSON body as a form: still read as JSON.
    const curlStyle = await getJson("/_simulator/tokens", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: JSON.stringify({ userId: MIA, audience: "https://management.azure.com" }) });
    expect(curlStyle).toMatchObject({ status: 200, body: { token_type: "Bearer" } });
    expect(await getJson("/_simulator/tokens", { method: "POST", body: JSON.stringify({ audience: GRANTGUARD_API_CLIENT_ID }) })).toMatchObject({ status: 400, body: { error: "invalid_request" } });
    expect(await getJson("/_simulator/tokens", { method: "POST", body: JSON.stringify({ userId: DAN_DISABLED, audience: GRANTGUARD_API_CLIENT_ID }) })).toMatchObject({ status: 400, body: { error_description: expect.stringMatching(/disabled/) } });
  });
});

describe("ARM with the local Entra ID's tokens", () => {
  it("accepts a user's own ARM token and records that user as the one who made the assignment", async () => {
    const client = createAuthorizationClient(credentialFor(sim().entra.issueUserToken({ userId: MIA, audience: "https://management.azure.com" })), sim().url);
    const created = await client.roleAssignments.create(RG, "e0000001-0000-4000-8000-000000000001", { roleDefinitionId: READER, principalId: "ffffffff-0000-4000-8000-000000000006", principalType: "ServicePrincipal" });
    expect(created).toMatchObject({ createdBy: MIA, updatedBy: MIA });
    await client.roleAssignments.delete(RG, "e0000001-0000-4000-8000-000000000001");
  });

  it("refuses a token from another tenant's issuer, an API token, a foreign signature and alg none with 401", async () => {
    const refused = async (token: string) => {
      const response = await fetch(`${sim().url}${RG}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
    };
    const arm = { userId: MIA, audience: "https://management.azure.com" };
    const wrongTenant = await refused(sim().entra.issueUserToken(arm, { issuer: "https://sts.windows.net/0d6b3d6c-5b6e-4a8e-9a1f-7c2d4e6f8a01/" }));
    expect(wrongTenant).toMatchObject({ status: 401, body: { error: { code: "InvalidAuthenticationTokenTenant", message: expect.stringContaining("wrong issuer") } } });
    expect((await refused(sim().entra.issueUserToken({ userId: MIA, audience: GRANTGUARD_API_CLIENT_ID }))).status).toBe(401);
    expect((await refused(sim().entra.issueUserToken(arm, { signature: "foreignKey" }))).status).toBe(401);
    expect((await refused(sim().entra.issueUserToken(arm, { signature: "none" }))).status).toBe(401);
    expect((await refused(sim().entra.issueUserToken({ ...arm, expiresInSeconds: -60 }))).status).toBe(401);
  });
});
