import { describe, expect, it } from "vitest";
import { TokenValidationUnavailableError, type TokenCheck, type TokenValidator } from "../../../shared/auth/tokens.js";
import { handleRestoreRequest, type RestoreHttpRequest } from "../../../shared/http/restore.js";
import { InMemoryRevocations } from "../../support/fakes.js";

const admin: TokenCheck = { ok: true, caller: { oid: "cccccccc-0000-4000-8000-000000000003", tid: "3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13", name: "Mia Member", upn: "mia@contoso.com", roles: ["GrantGuard.SecurityAdmin"] } };

/** A store that counts lookups: authorization must be decided before any. */
class CountingRevocations extends InMemoryRevocations {
  reads = 0;
  override async get(id: string) {
    this.reads += 1;
    return super.get(id);
  }
}

function setup(check: TokenCheck | Error | null) {
  const revocations = new CountingRevocations();
  const asked: (string | null | undefined)[] = [];
  const tokens: TokenValidator | null =
    check === null
      ? null
      : {
          async validate(authorization, anyOfRoles) {
            asked.push(authorization, anyOfRoles.join());
            if (check instanceof Error) throw check;
            return check;
          },
        };
  const call = (id: string, headers: Record<string, string> = {}, body: unknown = { reason: "Fabrikam contract renewed, CAB-42" }) => {
    const request: RestoreHttpRequest = { id, headers: { get: (name) => headers[name.toLowerCase()] ?? null }, body };
    return handleRestoreRequest(request, { revocations, tokens, writerFor: () => ({ deleteById: async () => "deleted", create: async () => "created" }), now: () => new Date("2026-01-01T00:00:00Z") });
  };
  return { revocations, asked, call };
}

describe("handleRestoreRequest", () => {
  it("asks the validator for the SecurityAdmin role with the Authorization header, and nothing else decides identity", async () => {
    const { asked, call } = setup({ ok: false, status: 401, reason: "bad signature" });
    await call("r1", { authorization: "Bearer x", "x-ms-client-principal": "eyJjbGFpbXMiOltdfQ==" });
    expect(asked).toEqual(["Bearer x", "GrantGuard.SecurityAdmin"]);
  });

  it("answers 401 with a Bearer challenge, invalid_token only when a token was sent, keeping the reason out of the body", async () => {
    const { call } = setup({ ok: false, status: 401, reason: "ERR_JWT_EXPIRED: exp" });
    expect(await call("r1")).toMatchObject({ status: 401, headers: { "www-authenticate": 'Bearer realm="grantguard"' }, detail: "ERR_JWT_EXPIRED: exp" });
    const sent = await call("r1", { authorization: "Bearer x" });
    expect(sent).toMatchObject({ status: 401, headers: { "www-authenticate": 'Bearer realm="grantguard", error="invalid_token"' } });
    expect(JSON.stringify(sent.jsonBody)).not.toContain("exp");
  });

  it("answers the same 403 for any id to a caller without the role, without looking anything up", async () => {
    const { revocations, call } = setup({ ok: false, status: 403, reason: "no role" });
    const known = await call("r1");
    expect(known).toMatchObject({ status: 403 });
    expect(await call("unknown", {}, { reason: "x" })).toEqual(known);
    expect(revocations.reads).toBe(0);
  });

  it("fails closed with 503 when unconfigured or when the tenant's keys cannot be read", async () => {
    const unconfigured = setup(null);
    expect(await unconfigured.call("r1", { authorization: "Bearer x" })).toMatchObject({ status: 503, jsonBody: { error: expect.stringContaining("GRANTGUARD_AUTH_TENANT_ID") } });
    const down = setup(new TokenValidationUnavailableError("keys unreachable"));
    expect(await down.call("r1", { authorization: "Bearer x" })).toMatchObject({ status: 503, headers: { "retry-after": "30" } });
    expect(unconfigured.revocations.reads + down.revocations.reads).toBe(0);
    await expect(setup(new TypeError("bug")).call("r1")).rejects.toThrow(TypeError);
  });

  it("for an admin, wants a reason and the caller's own ARM token before touching ARM", async () => {
    const { revocations, call } = setup(admin);
    expect(await call("r1", {}, { reason: "ok" })).toMatchObject({ status: 400, jsonBody: { error: expect.stringContaining("reason") } });
    expect(await call("r1")).toMatchObject({ status: 400, jsonBody: { error: expect.stringContaining("x-grantguard-arm-token") } });
    expect(revocations.reads).toBe(0);
  });
});
