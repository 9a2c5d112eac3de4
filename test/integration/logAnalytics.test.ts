import { LogsQueryClient, LogsQueryResultStatus } from "@azure/monitor-query-logs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { LogAnalyticsActivityLogs, LogQueryError } from "../../shared/azure/logs.js";
import type { ActivityLogs } from "../../shared/facts/activity.js";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { LOCAL_WORKSPACE_ID } from "../../local/simulator/logAnalytics.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// The product's .kql files, run by the real @azure/monitor-query-logs client against the local
// Log Analytics, which parses them with the official parser and evaluates them over the small
// tenant's logs.

const NOW = Date.parse("2026-11-22T12:00:00Z");
const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const MIA = "cccccccc-0000-4000-8000-000000000003";
const FUNC = "eeeeeeee-0000-4000-8000-000000000005";
const PIPELINE = "ffffffff-0000-4000-8000-000000000006";

let azure: TestAzure;
let client: LogsQueryClient;
let logs: ActivityLogs;
beforeAll(async () => {
  azure = await startTestAzure();
  client = new LogsQueryClient(createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 }), { endpoint: azure.local.settings.GRANTGUARD_LOG_ANALYTICS_ENDPOINT });
  logs = new LogAnalyticsActivityLogs(client, LOCAL_WORKSPACE_ID);
});
afterAll(async () => {
  await azure?.stop();
});
beforeEach(async () => {
  azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
  azure.local.simulator.logAnalytics.clock = () => NOW;
});

describe("the sweep's log queries against the local Log Analytics", () => {
  it("finds the last successful sign-in of every principal across the four sign-in tables in one query", async () => {
    const answer = await logs.lastSignIns({ lookbackDays: 90 });
    expect(answer).toEqual({
      status: "complete",
      value: [
        { principalId: ADA, lastSignIn: "2026-11-19T07:30:00.000Z", source: "AADNonInteractiveUserSignInLogs" },
        // Mia's later failed sign-in (ResultType 50126) does not count.
        { principalId: MIA, lastSignIn: "2026-11-20T08:00:00.000Z", source: "SigninLogs" },
        { principalId: FUNC, lastSignIn: "2026-11-21T22:00:00.000Z", source: "AADManagedIdentitySignInLogs" },
        { principalId: PIPELINE, lastSignIn: "2026-11-18T03:00:00.000Z", source: "AADServicePrincipalSignInLogs" },
      ],
    });
    expect(azure.local.simulator.requests.filter((r) => r.route === "logAnalytics.query")).toHaveLength(1);
  });

  it("bounds the window by the lookback", async () => {
    const answer = await logs.lastSignIns({ lookbackDays: 3 });
    // Three days before 2026-11-22T12:00Z: Ada's sign-in of the 19th at 07:30 falls outside.
    expect(answer.status === "complete" && answer.value.map((r) => r.principalId)).toEqual([MIA, FUNC]);
  });

  it("counts each caller's successful administrative operations, lower-cased", async () => {
    expect(await logs.operations({ lookbackDays: 90 })).toEqual({
      status: "complete",
      value: [
        { caller: "ada@contoso.com", operation: "microsoft.authorization/roleassignments/write", count: 1, lastUsed: "2026-11-15T10:00:02.000Z" },
        { caller: PIPELINE, operation: "microsoft.web/sites/write", count: 2, lastUsed: "2026-11-17T11:00:00.000Z" },
      ],
    });
  });

  it("lists who granted roles from which address, within the lookback only", async () => {
    const assignment = "/subscriptions/11111111-1111-4111-8111-111111111111/resourcegroups/rg-app/providers/microsoft.authorization/roleassignments/a0000002-0000-4000-8000-000000000002";
    expect(await logs.grants({ lookbackDays: 90 })).toEqual({ status: "complete", value: [{ caller: "ada@contoso.com", callerIpAddress: "198.51.100.7", time: "2026-11-15T10:00:02.000Z", assignmentId: assignment }] });
    const year = await logs.grants({ lookbackDays: 365 });
    expect(year.status === "complete" && year.value.map((g) => g.callerIpAddress)).toEqual(["198.51.100.99", "198.51.100.7"]);
  });

  it("reports a partial failure as partial, with the rows that arrived and the service's error", async () => {
    azure.local.simulator.logAnalytics.failPartially("a shard timed out");
    const answer = await logs.lastSignIns({ lookbackDays: 90 });
    expect(answer.status).toBe("partial");
    expect(answer.status === "partial" && answer.value).toHaveLength(4);
    expect(answer.status === "partial" && answer.error).toMatch(/PartialError/);
  });

  it("answers past the row limit with the rows up to it and a partial error, as the service does", async () => {
    azure.local.simulator.logAnalytics.limits = { maxRows: 2, maxBytes: 64 * 1024 * 1024 };
    const result = await client.queryWorkspace(LOCAL_WORKSPACE_ID, "SigninLogs | union AzureActivity", { duration: "P90D" });
    expect(result.status).toBe(LogsQueryResultStatus.PartialFailure);
    expect(result.status === LogsQueryResultStatus.PartialFailure && result.partialTables[0]?.rows).toHaveLength(2);
  });

  it("answers an operator it does not run with Log Analytics' 400 (BadArgumentError, SemanticError), never a guess", async () => {
    const error = await client.queryWorkspace(LOCAL_WORKSPACE_ID, "SigninLogs | mv-expand UserId", { duration: "P1D" }).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 400, code: "BadArgumentError" });
    expect(JSON.stringify((error as { details?: unknown }).details)).toContain("SemanticError");
  });

  it("answers a syntax error with 400 and the parser's diagnostic", async () => {
    const error = await client.queryWorkspace(LOCAL_WORKSPACE_ID, "SigninLogs | where UserId ==", { duration: "P1D" }).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 400, code: "BadArgumentError" });
    expect(JSON.stringify((error as { details?: unknown }).details)).toMatch(/SyntaxError.*Missing expression/);
  });

  it("an adapter whose query the service refuses fails with a clear error instead of answering empty", async () => {
    const broken = new LogAnalyticsActivityLogs(client, LOCAL_WORKSPACE_ID, fixture("kql/broken"));
    await expect(broken.lastSignIns({ lookbackDays: 1 })).rejects.toThrow(LogQueryError);
  });

  it("reports an unknown workspace as unavailable, not as no sign-ins", async () => {
    const elsewhere = new LogAnalyticsActivityLogs(client, "00000000-0000-4000-8000-000000000000");
    expect(await elsewhere.lastSignIns({ lookbackDays: 1 })).toMatchObject({ status: "unavailable" });
  });

  it("refuses a token for another audience", async () => {
    const response = await fetch(`${azure.local.settings.GRANTGUARD_LOG_ANALYTICS_ENDPOINT}/workspaces/${LOCAL_WORKSPACE_ID}/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "SigninLogs" }) });
    expect(response.status).toBe(401);
  });
});
