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
});
