import { describe, expect, it } from "vitest";
import { loadConfig } from "../../shared/config.js";
import { ConfigError } from "../../shared/errors.js";

describe("loadConfig", () => {
  it("names a missing required setting", () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/GRANTGUARD_TABLE_ENDPOINT/);
  });

  it("refuses plain http endpoints and bad numbers, naming each setting", () => {
    expect(() => loadConfig({ GRANTGUARD_TABLE_ENDPOINT: "http://acct.table.core.windows.net", GRANTGUARD_ROLE_CACHE_TTL_SECONDS: "soon" })).toThrow(
      /GRANTGUARD_TABLE_ENDPOINT: must be an https:\/\/ URL; GRANTGUARD_ROLE_CACHE_TTL_SECONDS/,
    );
  });

  it("fills documented defaults and freezes the result", () => {
    const config = loadConfig({ GRANTGUARD_TABLE_ENDPOINT: "https://acct.table.core.windows.net/" });
    expect(config).toMatchObject({ armEndpoint: "https://management.azure.com", graphEndpoint: "https://graph.microsoft.com", tableEndpoint: "https://acct.table.core.windows.net", findingsTable: "findings", roleCacheTtlMs: 3_600_000 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("starts in audit mode with no channels, and derives the default routes from the channels that are set", () => {
    const base = { GRANTGUARD_TABLE_ENDPOINT: "https://acct.table.core.windows.net" };
    expect(loadConfig(base).response).toMatchObject({ mode: "audit", routes: [], maxRevocations: 5, revocationWindowMs: 3_600_000 });
    const withTeams = loadConfig({ ...base, GRANTGUARD_TEAMS_WEBHOOK_URL: "https://contoso.webhook.office.com/x" }).response;
    expect(withTeams.routes).toEqual([
      expect.objectContaining({ channels: ["teams"], minSeverity: "medium", digest: false }),
      expect.objectContaining({ channels: ["teams"], maxSeverity: "low", digest: true }),
    ]);
  });

  it("summarizes more than 20 alerts per channel and round by default, and takes another threshold, not a bad one", () => {
    const base = { GRANTGUARD_TABLE_ENDPOINT: "https://acct.table.core.windows.net" };
    expect(loadConfig(base).response.alertSummaryThreshold).toBe(20);
    expect(loadConfig({ ...base, GRANTGUARD_ALERT_SUMMARY_THRESHOLD: "500" }).response.alertSummaryThreshold).toBe(500);
    for (const bad of ["0", "-3", "2.5", "many"]) expect(() => loadConfig({ ...base, GRANTGUARD_ALERT_SUMMARY_THRESHOLD: bad })).toThrow(/GRANTGUARD_ALERT_SUMMARY_THRESHOLD/);
  });

  it("refuses a webhook without its secret, a plain-http webhook off loopback, and routes to an unset channel", () => {
    const base = { GRANTGUARD_TABLE_ENDPOINT: "https://acct.table.core.windows.net" };
    expect(() => loadConfig({ ...base, GRANTGUARD_WEBHOOK_URL: "https://hooks.contoso.com/x" })).toThrow(/GRANTGUARD_WEBHOOK_SECRET is required/);
    expect(() => loadConfig({ ...base, GRANTGUARD_SLACK_WEBHOOK_URL: "http://hooks.contoso.com/x" })).toThrow(/GRANTGUARD_SLACK_WEBHOOK_URL: must be https/);
    expect(loadConfig({ ...base, GRANTGUARD_SLACK_WEBHOOK_URL: "http://127.0.0.1:8080/x" }).response.channels.slack).toBe("http://127.0.0.1:8080/x");
    expect(() => loadConfig({ ...base, GRANTGUARD_ALERT_ROUTES: '[{"channels":["teams"]}]' })).toThrow(/names channel\(s\) with no URL set: teams/);
    expect(() => loadConfig({ ...base, GRANTGUARD_ALERT_ROUTES: "not json" })).toThrow(/GRANTGUARD_ALERT_ROUTES: must be a JSON array of routes/);
    expect(() => loadConfig({ ...base, GRANTGUARD_MODE: "yolo" })).toThrow(/GRANTGUARD_MODE/);
  });

  it("reads the Entra ID settings of the HTTP API, and refuses half of them or ids that are not GUIDs", () => {
    const base = { GRANTGUARD_TABLE_ENDPOINT: "https://acct.table.core.windows.net" };
    expect(loadConfig(base).auth).toBeNull();
    const tenant = "3F1C9A52-6B7E-4D21-9C84-2A5E7B9D0F13";
    expect(loadConfig({ ...base, GRANTGUARD_AUTH_TENANT_ID: tenant, GRANTGUARD_AUTH_AUDIENCE: "9b2f6c1e-4a7d-4e58-8c3b-1d0e5f7a2b64, 00000003-0000-0000-c000-000000000000" }).auth).toEqual({
      tenantId: tenant.toLowerCase(),
      audiences: ["9b2f6c1e-4a7d-4e58-8c3b-1d0e5f7a2b64", "00000003-0000-0000-c000-000000000000"],
      authority: "https://login.microsoftonline.com",
    });
    expect(() => loadConfig({ ...base, GRANTGUARD_AUTH_TENANT_ID: tenant })).toThrow(/GRANTGUARD_AUTH_AUDIENCE: is required/);
    expect(() => loadConfig({ ...base, GRANTGUARD_AUTH_AUDIENCE: "9b2f6c1e-4a7d-4e58-8c3b-1d0e5f7a2b64" })).toThrow(/GRANTGUARD_AUTH_TENANT_ID: is required/);
    expect(() => loadConfig({ ...base, GRANTGUARD_AUTH_TENANT_ID: "contoso.onmicrosoft.com", GRANTGUARD_AUTH_AUDIENCE: "api://grantguard" })).toThrow(/GRANTGUARD_AUTH_TENANT_ID: must be the tenant id.*GRANTGUARD_AUTH_AUDIENCE/);
    expect(() => loadConfig({ ...base, GRANTGUARD_AUTH_TENANT_ID: tenant, GRANTGUARD_AUTH_AUDIENCE: "9b2f6c1e-4a7d-4e58-8c3b-1d0e5f7a2b64", GRANTGUARD_AUTH_AUTHORITY: "http://login.microsoftonline.com" })).toThrow(/GRANTGUARD_AUTH_AUTHORITY: must be an https/);
  });
});
