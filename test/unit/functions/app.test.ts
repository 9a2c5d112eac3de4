import functions from "@azure/functions";
import { afterEach, describe, expect, it, vi } from "vitest";
import { dispatchAlertsHandler } from "../../../functions/dispatchAlerts.js";
import { judgeGrantEventHandler } from "../../../functions/judgeGrantEvent.js";
import { restoreAssignmentHandler } from "../../../functions/restoreAssignment.js";
import { sendAlertDigestHandler } from "../../../functions/sendAlertDigest.js";

// The registrations are data; only functions/app.ts, the file the Functions host loads, calls app.*.

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the function app's registrations", () => {
  it("registers nothing when the registrations or the handlers are imported", async () => {
    const calls = [vi.spyOn(functions.app, "eventGrid"), vi.spyOn(functions.app, "http"), vi.spyOn(functions.app, "timer")];
    await import("../../../functions/index.js");
    expect(calls.map((c) => c.mock.calls.length)).toEqual([0, 0, 0]);
  });

  it("registers every function with the Functions host from functions/app.ts, as its registration says", async () => {
    const eventGrid = vi.spyOn(functions.app, "eventGrid").mockImplementation(() => undefined);
    const http = vi.spyOn(functions.app, "http").mockImplementation(() => undefined);
    const timer = vi.spyOn(functions.app, "timer").mockImplementation(() => undefined);
    await import("../../../functions/app.js");
    expect(eventGrid.mock.calls).toEqual([["judgeGrantEvent", { handler: judgeGrantEventHandler }]]);
    expect(http.mock.calls).toEqual([["restoreAssignment", { methods: ["POST"], authLevel: "anonymous", route: "revocations/{id}/restore", handler: restoreAssignmentHandler }]]);
    expect(timer.mock.calls).toEqual([
      ["dispatchAlerts", { schedule: "0 * * * * *", handler: dispatchAlertsHandler }],
      ["sendAlertDigest", { schedule: "0 0 * * * *", handler: sendAlertDigestHandler }],
    ]);
  });
});
