import { describe, expect, it } from "vitest";
import { delegatedArmCredential } from "../../../shared/auth/delegated.js";
import type { Caller } from "../../../shared/auth/tokens.js";

const TENANT = "3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13";
const MIA = "cccccccc-0000-4000-8000-000000000003";
const NOW = 1_800_000_000;
const caller: Caller = { oid: MIA, tid: TENANT, name: "Mia Member", upn: "mia@contoso.com", roles: ["GrantGuard.SecurityAdmin"] };
// Unsigned on purpose: only ARM verifies the ARM token's signature; this check is about whose it is.
const jwt = (claims: Record<string, unknown>) => `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;

describe("delegatedArmCredential", () => {
  it("hands ARM the caller's own token, with its expiry", async () => {
    const token = jwt({ tid: TENANT, oid: MIA.toUpperCase(), exp: NOW + 600, aud: "https://management.azure.com" });
    const result = delegatedArmCredential(` ${token} `, caller, NOW);
    expect(result.ok).toBe(true);
    if (result.ok) expect(await result.credential.getToken("https://management.azure.com/.default")).toEqual({ token, expiresOnTimestamp: (NOW + 600) * 1000 });
  });

  it("asks for the token when it is missing or unreadable, and for a fresh one when it expired (400)", () => {
    expect(delegatedArmCredential(null, caller, NOW)).toMatchObject({ ok: false, status: 400, reason: expect.stringContaining("x-grantguard-arm-token") });
    expect(delegatedArmCredential("  ", caller, NOW)).toMatchObject({ ok: false, status: 400 });
    expect(delegatedArmCredential("opaque-token", caller, NOW)).toMatchObject({ ok: false, status: 400, reason: expect.stringContaining("not an access token") });
    expect(delegatedArmCredential(jwt({ tid: TENANT, oid: MIA, exp: NOW }), caller, NOW)).toMatchObject({ ok: false, status: 400, reason: expect.stringContaining("expired") });
    expect(delegatedArmCredential(jwt({ tid: TENANT, oid: MIA }), caller, NOW)).toMatchObject({ ok: false, status: 400 });
  });

  it("refuses another user's or another tenant's token (403), so the recorded restorer is the one ARM authorises", () => {
    expect(delegatedArmCredential(jwt({ tid: TENANT, oid: "aaaaaaaa-0000-4000-8000-000000000001", exp: NOW + 600 }), caller, NOW)).toMatchObject({ ok: false, status: 403 });
    expect(delegatedArmCredential(jwt({ tid: "0d6b3d6c-5b6e-4a8e-9a1f-7c2d4e6f8a01", oid: MIA, exp: NOW + 600 }), caller, NOW)).toMatchObject({ ok: false, status: 403 });
    expect(delegatedArmCredential(jwt({ oid: MIA, exp: NOW + 600 }), caller, NOW)).toMatchObject({ ok: false, status: 403 });
  });
});
