import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantguardBin } from "../support/cli.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// The verbs that reach Azure, run as a user runs them (the bin), when Azure cannot be reached or
// refuses: one line that says what happened and what to do, exit 3, never a stack trace.

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const STACK_FRAME = /^\s+at /m;

let azure: TestAzure;
beforeAll(async () => {
  azure = await startTestAzure();
});
afterAll(async () => {
  await azure?.stop();
});

/** An environment with no Azure credential anywhere: no AZURE_* or identity endpoint, no az/azd/pwsh on PATH, an empty home. */
async function noCredentialEnv(settings: Record<string, string>): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AZURE_|IDENTITY_|MSI_|IMDS_)/.test(key)) env[key] = value;
  }
  return { ...env, PATH: "/nonexistent", HOME: await mkdtemp(join(tmpdir(), "gg-home-")), ...settings };
}

describe("a verb that reaches Azure", () => {
  it("with no Azure credential says so in one line, with how to sign in, and exits 3 (not 1, which means findings)", async () => {
    const env = await noCredentialEnv({ GRANTGUARD_TABLE_ENDPOINT: azure.local.azurite.tableEndpoint });
    const result = await grantguardBin(["revocations", "list"], env);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/^grantguard: no Azure credential: sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET/)]);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("shows the whole error, with what was tried, under --verbose", async () => {
    const env = await noCredentialEnv({ GRANTGUARD_TABLE_ENDPOINT: azure.local.azurite.tableEndpoint });
    const result = await grantguardBin(["alerts", "list", "--verbose"], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("AggregateAuthenticationError");
    expect(result.stderr).toContain("EnvironmentCredential is unavailable");
    expect(result.stderr).toMatch(STACK_FRAME);
  });

  it("refused by ARM (403) names what the identity lacks and where, in one line, exit 3", async () => {
    azure.local.simulator.faults.add({ route: "arm.roleAssignments.list", status: 403 });
    try {
      const out = join(await mkdtemp(join(tmpdir(), "gg-export-")), "exported.json");
      const result = await grantguardBin(["snapshot", "export", "--scope", SUB, "--out", out]);
      expect(result.code).toBe(3);
      expect(result.stderr.trimEnd().split("\n")).toEqual([
        `grantguard: Azure refused: your identity lacks Reader (Microsoft.Authorization/roleAssignments/read and roleDefinitions/read) on the scopes you export (HTTP 403 from Azure Resource Manager at ${azure.local.simulator.url}: fault injected on arm.roleAssignments.list)`,
      ]);
    } finally {
      azure.local.simulator.faults.clear();
    }
  });

  it("that cannot reach the endpoint says which one, exit 3", async () => {
    const result = await grantguardBin(["revocations", "list"], { ...process.env, GRANTGUARD_TABLE_ENDPOINT: "https://127.0.0.1:9/devstoreaccount1" });
    expect(result.code).toBe(3);
    expect(result.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/^grantguard: cannot reach Table Storage at https:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/)]);
  });
});
