import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { FunctionRegistration } from "../../functions/index.js";
import { DevHost } from "../../local/devhost.js";
import { getRuntime } from "../../shared/runtime.js";
import { readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// What is deployed is the bundle `npm run build` makes (package.json "main"), not the sources the
// other tests import: build it the same way and serve its functions.

let azure: TestAzure;
let out: string;
beforeAll(async () => {
  azure = await startTestAzure();
  // Inside the project, as in a deployment: the bundle finds the built-in pack beside package.json.
  const dist = fileURLToPath(new URL("../../dist", import.meta.url));
  await mkdir(dist, { recursive: true });
  out = await mkdtemp(join(dist, "bundle-test-"));
  await promisify(execFile)(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "-s", "bundle", "--", `--outdir=${out}`]);
});
afterAll(async () => {
  await azure?.stop();
  if (out) await rm(out, { recursive: true, force: true });
});

it("the bundled app judges an event end to end, loading the runtime, the SDKs and the built-in pack on first use", async () => {
  const { functionRegistrations } = (await import(pathToFileURL(join(out, "index.js")).href)) as { functionRegistrations: readonly FunctionRegistration[] };
  expect(functionRegistrations.map((r) => r.name).sort()).toEqual(["accessHistory", "acknowledgeFinding", "dispatchAlerts", "drainAuditTrail", "exemptFinding", "exportAudit", "exportFindings", "getFinding", "judgeGrantEvent", "listAudit", "listFindings", "openApi", "page", "pageFile", "restoreAssignment", "sendAlertDigest", "signAuditDigest", "sweepShard", "sweepShardPoison", "sweepTenant"]);
  const logs: string[] = [];
  const host = new DevHost((log) => logs.push(log.message), { registrations: functionRegistrations });
  await host.start();
  try {
    const response = await fetch(host.eventGridUrl("judgeGrantEvent"), { method: "POST", headers: { "content-type": "application/json", "aeg-event-type": "Notification" }, body: JSON.stringify([{ ...(await readFixture("events/guest-owner-write.json")), id: "bundled-1" }]) });
    expect(response.status, logs.join("\n")).toBe(202);
    expect(logs.some((l) => l.includes("guest-privileged-role"))).toBe(true);
    // The bundle wrote through the real SDKs to the same tables the sources read.
    expect((await (await getRuntime()).services.findings.list()).map((f) => f.policyId)).toContain("guest-privileged-role");
  } finally {
    await host.stop();
  }
});
