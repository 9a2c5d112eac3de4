import { createHash, createPublicKey, verify } from "node:crypto";
import { CryptographyClient } from "@azure/keyvault-keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { createKeyClient } from "../../shared/azure/auditTrailSigner.js";
import { AUDIT_KEY_NAME } from "../../local/localAzure.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// The local Key Vault's keys API through @azure/keyvault-keys, and its answers to what the SDK does not send.

const MIA = "cccccccc-0000-4000-8000-000000000003";
let azure: TestAzure;
beforeAll(async () => {
  azure = await startTestAzure();
});
afterAll(async () => {
  await azure?.stop();
});

const credential = () => createManagedIdentityCredential({ clientId: undefined, timeoutMs: 30_000 });
const vault = () => azure.local.simulator.url;
const userToken = (audience = "https://vault.azure.net") => azure.local.simulator.entra.issueUserToken({ userId: MIA, audience });
const call = (path: string, init: RequestInit = {}) => fetch(`${vault()}${path}`, { ...init, headers: { "content-type": "application/json", ...(init.headers ?? {}) } });

describe("the local Key Vault (keys)", () => {
  it("answers a request without a token with Key Vault's challenge, naming its authority and resource", async () => {
    const response = await call(`/keys/${AUDIT_KEY_NAME}?api-version=7.5`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(`Bearer authorization="${vault()}/${azure.local.simulator.state.tenantId}", resource="https://vault.azure.net"`);
    expect(await response.json()).toEqual({ error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } });
  });

  it("gives the SDK the key's public half only, under a versioned key id", async () => {
    const key = await createKeyClient(vault(), credential()).getKey(AUDIT_KEY_NAME);
    expect(key.id).toMatch(new RegExp(`^${vault()}/keys/${AUDIT_KEY_NAME}/[0-9a-f]{32}$`));
    expect(key.keyType).toBe("RSA");
    expect(key.key?.n?.length).toBe(256);
    expect(key.key?.d).toBeUndefined();
    expect(key.key?.p).toBeUndefined();
  });

  it("signs RS256 over a SHA-256 digest so that anyone with the public key verifies it, and its own verify agrees", async () => {
    const keys = createKeyClient(vault(), credential());
    const key = await keys.getKey(AUDIT_KEY_NAME);
    const crypto = new CryptographyClient(key.id ?? "", credential(), { disableChallengeResourceVerification: true });
    const message = Buffer.from('{"fromSeq":1,"toSeq":2}');
    const digest = createHash("sha256").update(message).digest();
    const signed = await crypto.sign("RS256", digest);
    const publicKey = createPublicKey({ key: { kty: "RSA", n: Buffer.from(key.key?.n ?? []).toString("base64url"), e: Buffer.from(key.key?.e ?? []).toString("base64url") }, format: "jwk" });
    expect(verify("sha256", message, publicKey, Buffer.from(signed.result))).toBe(true);
    expect(verify("sha256", Buffer.from("something else"), publicKey, Buffer.from(signed.result))).toBe(false);
    const token = (await credential().getToken("https://vault.azure.net/.default"))?.token ?? "";
    const remote = await call(`/keys/${AUDIT_KEY_NAME}/${key.properties.version}/verify?api-version=7.5`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ alg: "RS256", digest: digest.toString("base64url"), value: Buffer.from(signed.result).toString("base64url") }) });
    expect(await remote.json()).toEqual({ value: true });
  });

  it("refuses a caller without a Key Vault role (403 ForbiddenByRbac), a token for another resource (401) and a digest of the wrong length (400)", async () => {
    const forbidden = await call(`/keys/${AUDIT_KEY_NAME}//sign?api-version=7.5`, { method: "POST", headers: { authorization: `Bearer ${userToken()}` }, body: JSON.stringify({ alg: "RS256", value: Buffer.alloc(32).toString("base64url") }) });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: "Forbidden", innererror: { code: "ForbiddenByRbac" } } });
    const wrongAudience = await call(`/keys/${AUDIT_KEY_NAME}?api-version=7.5`, { headers: { authorization: `Bearer ${userToken("https://management.azure.com")}` } });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers.get("www-authenticate")).toContain('resource="https://vault.azure.net"');
    const token = (await credential().getToken("https://vault.azure.net/.default"))?.token ?? "";
    const short = await call(`/keys/${AUDIT_KEY_NAME}//sign?api-version=7.5`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ alg: "RS256", value: Buffer.alloc(20).toString("base64url") }) });
    expect(short.status).toBe(400);
    expect(await short.json()).toMatchObject({ error: { code: "BadParameter" } });
    const noVersion = await call(`/keys/${AUDIT_KEY_NAME}`, { headers: { authorization: `Bearer ${token}` } });
    expect(noVersion.status).toBe(400);
    const unknown = await call("/keys/no-such-key?api-version=7.5", { headers: { authorization: `Bearer ${token}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "KeyNotFound" } });
  });
});
