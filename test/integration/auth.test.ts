import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:https";
import { createTokenValidator, TokenValidationUnavailableError } from "../../shared/auth/tokens.js";
import { closeServer, listenOnLoopback } from "../../local/listen.js";
import { GRANTGUARD_API_CLIENT_ID } from "../../local/localAzure.js";
import { loadTrustedLocalTls } from "../../local/tls.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// The token validator grantguard's HTTP API uses, over real HTTPS against the simulator's Entra ID.

const TENANT = "3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13";
const MIA = "cccccccc-0000-4000-8000-000000000003";
const ADMIN = "GrantGuard.SecurityAdmin";
const AUDITOR = "GrantGuard.Auditor";

let azure: TestAzure;
beforeAll(async () => {
  azure = await startTestAzure();
});
afterAll(async () => {
  await azure?.stop();
});

const validator = (overrides: { tenantId?: string; authority?: string } = {}) =>
  createTokenValidator({ tenantId: TENANT, audiences: [GRANTGUARD_API_CLIENT_ID], authority: azure.local.simulator.entra.authority, ...overrides });
const token = (roles: string[]) => azure.local.simulator.entra.issueUserToken({ userId: MIA, audience: GRANTGUARD_API_CLIENT_ID, roles });
const fetches = (route: string) => azure.local.simulator.requests.filter((r) => r.route === route).length;

describe("createTokenValidator", () => {
  it("returns the caller a valid token names, when it holds one of the roles asked for", async () => {
    const check = await validator().validate(`Bearer ${token([AUDITOR])}`, [ADMIN, AUDITOR]);
    expect(check).toEqual({ ok: true, caller: { oid: MIA, tid: TENANT, name: "Mia Member", upn: "mia@contoso.com", roles: [AUDITOR] } });
    expect(await validator().validate(`Bearer ${token([AUDITOR])}`, [ADMIN])).toMatchObject({ ok: false, status: 403 });
    expect(await validator().validate(`Basic ${Buffer.from("mia:pw").toString("base64")}`, [ADMIN])).toMatchObject({ ok: false, status: 401 });
  });

  it("reads the metadata and key set once and serves later tokens from its cache", async () => {
    const v = validator();
    const [metadataBefore, keysBefore] = [fetches("entra.openidConfiguration"), fetches("entra.keys")];
    for (let i = 0; i < 3; i++) expect(await v.validate(`Bearer ${token([ADMIN])}`, [ADMIN])).toMatchObject({ ok: true });
    expect([fetches("entra.openidConfiguration") - metadataBefore, fetches("entra.keys") - keysBefore]).toEqual([1, 1]);
  });

  it("fails closed, and says it is not the caller's fault, when the key set cannot be read; the next call reads it again", async () => {
    const v = validator();
    azure.local.simulator.faults.add({ route: "entra.keys", status: 503, count: 1 });
    await expect(v.validate(`Bearer ${token([ADMIN])}`, [ADMIN])).rejects.toBeInstanceOf(TokenValidationUnavailableError);
    expect(await v.validate(`Bearer ${token([ADMIN])}`, [ADMIN])).toMatchObject({ ok: true });
  });

  it("fails closed when the tenant's metadata cannot be read (another tenant, or nothing listening)", async () => {
    await expect(validator({ tenantId: "0d6b3d6c-5b6e-4a8e-9a1f-7c2d4e6f8a01" }).validate(`Bearer ${token([ADMIN])}`, [ADMIN])).rejects.toBeInstanceOf(TokenValidationUnavailableError);
    await expect(validator({ authority: "https://127.0.0.1:9" }).validate(`Bearer ${token([ADMIN])}`, [ADMIN])).rejects.toBeInstanceOf(TokenValidationUnavailableError);
  });
});

describe("createTokenValidator against an authority that publishes keys per issuer", () => {
  // A stand-in authority serving the simulator's own key, with the issuer each key is published for.
  let server: Server;
  let authority = "";
  let keyIssuer = "";
  beforeAll(async () => {
    const tls = await loadTrustedLocalTls();
    server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      void (async () => {
        const real = (await (await fetch(`${azure.local.simulator.url}/${TENANT}/discovery/v2.0/keys`)).json()) as { keys: Record<string, unknown>[] };
        const body = req.url?.endsWith("/openid-configuration")
          ? { issuer: `${authority}/${TENANT}/v2.0`, jwks_uri: `${authority}/${TENANT}/discovery/v2.0/keys` }
          : { keys: real.keys.map((k) => ({ ...k, issuer: keyIssuer })) };
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      })();
    });
    authority = `https://127.0.0.1:${await listenOnLoopback(server, 0)}`;
  });
  afterAll(async () => {
    await closeServer(server);
  });

  const tokenFromAuthority = () => azure.local.simulator.entra.issueUserToken({ userId: MIA, audience: GRANTGUARD_API_CLIENT_ID, roles: [ADMIN] }, { issuer: `${authority}/${TENANT}/v2.0` });

  it("accepts a key published for the {tenantid} template or for exactly this issuer", async () => {
    keyIssuer = `${authority}/{tenantid}/v2.0`;
    expect(await validator({ authority }).validate(`Bearer ${tokenFromAuthority()}`, [ADMIN])).toMatchObject({ ok: true });
    keyIssuer = `${authority}/${TENANT}/v2.0`;
    expect(await validator({ authority }).validate(`Bearer ${tokenFromAuthority()}`, [ADMIN])).toMatchObject({ ok: true });
  });

  it("refuses a token signed by a key published for another tenant's issuer", async () => {
    keyIssuer = `${authority}/0d6b3d6c-5b6e-4a8e-9a1f-7c2d4e6f8a01/v2.0`;
    expect(await validator({ authority }).validate(`Bearer ${tokenFromAuthority()}`, [ADMIN])).toMatchObject({ ok: false, status: 401, reason: expect.stringContaining("signing key is for issuer") });
  });
});
