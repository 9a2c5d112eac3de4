import functions from "@azure/functions";
import { afterEach, describe, expect, it, vi } from "vitest";
import { drainAuditTrailHandler, signAuditDigestHandler } from "../../../functions/auditTrail.js";
import { dispatchAlertsHandler } from "../../../functions/dispatchAlerts.js";
import { judgeGrantEventHandler } from "../../../functions/judgeGrantEvent.js";
import { restoreAssignmentHandler } from "../../../functions/restoreAssignment.js";
import { sendAlertDigestHandler } from "../../../functions/sendAlertDigest.js";
import { sweepShardHandler, sweepShardPoisonHandler } from "../../../functions/sweepShard.js";
import { sweepTenantHandler } from "../../../functions/sweepTenant.js";

// The registrations are data; only functions/app.ts, the file the Functions host loads, calls app.*.

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the function app's registrations", () => {
  it("registers nothing when the registrations or the handlers are imported", async () => {
    const calls = [vi.spyOn(functions.app, "eventGrid"), vi.spyOn(functions.app, "http"), vi.spyOn(functions.app, "timer"), vi.spyOn(functions.app, "storageQueue")];
    await import("../../../functions/index.js");
    expect(calls.map((c) => c.mock.calls.length)).toEqual([0, 0, 0, 0]);
  });

  it("registers every function with the Functions host from functions/app.ts, as its registration says", async () => {
    const eventGrid = vi.spyOn(functions.app, "eventGrid").mockImplementation(() => undefined);
    const http = vi.spyOn(functions.app, "http").mockImplementation(() => undefined);
    const timer = vi.spyOn(functions.app, "timer").mockImplementation(() => undefined);
    const setup = vi.spyOn(functions.app, "setup").mockImplementation(() => undefined);
    const storageQueue = vi.spyOn(functions.app, "storageQueue").mockImplementation(() => undefined);
    await import("../../../functions/app.js");
    // Exports (the audit trail's, the findings') stream: the host must be told before any function registers.
    expect(setup.mock.calls).toEqual([[{ enableHttpStream: true }]]);
    expect(setup.mock.invocationCallOrder[0]).toBeLessThan(http.mock.invocationCallOrder[0] ?? 0);
    expect(eventGrid.mock.calls).toEqual([["judgeGrantEvent", { handler: judgeGrantEventHandler }]]);
    expect(http.mock.calls[0]).toEqual(["restoreAssignment", { methods: ["POST"], authLevel: "anonymous", route: "revocations/{id}/restore", handler: restoreAssignmentHandler }]);
    // The auditors' API, every function anonymous at the host level (each checks the caller's Entra ID token itself).
    expect(http.mock.calls.slice(1).map(([name, options]) => [name, options.methods, options.authLevel, options.route])).toEqual([
      ["listFindings", ["GET"], "anonymous", "findings"],
      ["exportFindings", ["GET"], "anonymous", "findings/export"],
      ["getFinding", ["GET"], "anonymous", "findings/{id}"],
      ["acknowledgeFinding", ["POST"], "anonymous", "findings/{id}/acknowledge"],
      ["exemptFinding", ["POST"], "anonymous", "findings/{id}/exempt"],
      ["accessHistory", ["GET"], "anonymous", "access"],
      ["openApi", ["GET"], "anonymous", "openapi.json"],
      ["page", ["GET"], "anonymous", "page"],
      ["pageFile", ["GET"], "anonymous", "page/{file}"],
      ["listAudit", ["GET"], "anonymous", "audit"],
      ["exportAudit", ["GET"], "anonymous", "audit/export"],
    ]);
    expect(timer.mock.calls).toEqual([
      ["dispatchAlerts", { schedule: "0 * * * * *", handler: dispatchAlertsHandler }],
      ["sendAlertDigest", { schedule: "0 0 * * * *", handler: sendAlertDigestHandler }],
      ["drainAuditTrail", { schedule: "30 * * * * *", handler: drainAuditTrailHandler }],
      ["signAuditDigest", { schedule: "0 5 * * * *", handler: signAuditDigestHandler }],
      // The sweep's schedule is an app setting (GRANTGUARD_SWEEP_SCHEDULE, daily at 03:00 by default).
      ["sweepTenant", { schedule: "%GRANTGUARD_SWEEP_SCHEDULE%", handler: sweepTenantHandler }],
    ]);
    // Identity-based: the host reads GRANTGUARD_STORAGE__queueServiceUri, never a connection string.
    expect(storageQueue.mock.calls).toEqual([
      ["sweepShard", { queueName: "sweep-shards", connection: "GRANTGUARD_STORAGE", handler: sweepShardHandler }],
      ["sweepShardPoison", { queueName: "sweep-shards-poison", connection: "GRANTGUARD_STORAGE", handler: sweepShardPoisonHandler }],
    ]);
  });
});
