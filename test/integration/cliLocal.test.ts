import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantguardBin } from "../support/cli.js";
import { fixture, readFixture } from "../support/testAzure.js";

// The response verbs against a running `npm start`, as a newcomer uses them: npm start (with its
// own certificate, through local/trusted.ts) tells the command line where its local Azure is, and
// `npx grantguard revocations list` / `restore` work with no settings at all.

const GUEST_OWNER = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001";

let dir: string;
let start: ChildProcess;
let startOutput = "";

/** The environment of a person's shell: no grantguard settings and no identity endpoint; only where npm start's file lives. */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(GRANTGUARD_|IDENTITY_|AZURE_)/.test(key)) env[key] = value;
  return { ...env, GRANTGUARD_LOCAL_DIR: dir };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gg-local-"));
  await writeFile(join(dir, "events.json"), JSON.stringify([await readFixture("events/guest-owner-write.json")]));
  // `npm start` is `tsx local/trusted.ts local/main.ts`: a fresh certificate this test process does not trust.
  start = spawn(process.execPath, ["--import", "tsx", "local/trusted.ts", "local/main.ts", "--tenant", fixture("tenants/small.json"), "--events", join(dir, "events.json"), "--policies", "policies,local/demo/revoke-pack"], {
    env: { ...shellEnv(), GRANTGUARD_MODE: "enforce" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  start.stdout!.on("data", (d: Buffer) => void (startOutput += d.toString()));
  start.stderr!.on("data", (d: Buffer) => void (startOutput += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (startOutput.includes("Press Ctrl-C to stop.")) resolve();
      else if (start.exitCode !== null) reject(new Error(`npm start ended: ${startOutput}`));
      else return;
      clearInterval(timer);
    }, 100);
  });
}, 90_000);

afterAll(async () => {
  if (start && start.exitCode === null) {
    start.kill("SIGINT");
    await new Promise((resolve) => start.once("exit", resolve));
  }
});

describe("the response verbs against a running npm start", () => {
  it("npm start says how to reach its local Azure from the command line, and as whom, and ends its run with one summary line", () => {
    expect(startOutput).toContain(`grantguard: while this runs, the command line reaches this local Azure as mia@contoso.com (settings in ${join(dir, "local.json")}):`);
    expect(startOutput).toContain("npx grantguard revocations list");
    // The guest's Owner grant was revoked, so its findings are resolved; the low ones went out in the digest.
    expect(startOutput).toMatch(/^summary: 0 open finding\(s\) \(0 critical, 0 high, 0 medium, 0 low\), 0 exempted, \d+ resolved; \d+ alert\(s\) sent \(\d+ of them in 1 digest message\), 0 failed, 0 waiting$/m);
  });

  it("sweep, live against npm start, is a dry run that writes nothing unless told to, and after --write finds nothing left to write", async () => {
    const dry = await grantguardBin(["sweep", "--json", "--fail-on", "never"], shellEnv());
    expect(dry.code, dry.stderr).toBe(0);
    const first = JSON.parse(dry.stdout) as { findings: { policyId: string; scope: string }[]; summary: { findingWrites: number; written: boolean; assignments: number; calls: { logAnalytics: number } } };
    // The tenant's nine assignments, less the guest's Owner grant that npm start revoked.
    expect(first.summary).toMatchObject({ written: false, assignments: 8, calls: { logAnalytics: 3 } });
    expect(first.summary.findingWrites).toBeGreaterThan(0);
    expect(dry.stderr).toContain("Dry run: would write");

    // Had the dry run written anything, --write would find less to write than the dry run announced.
    const written = await grantguardBin(["sweep", "--write", "--fail-on", "never"], shellEnv());
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toMatch(new RegExp(`Wrote ${first.summary.findingWrites} finding row`));
    const after = JSON.parse((await grantguardBin(["sweep", "--json", "--fail-on", "never"], shellEnv())).stdout) as typeof first;
    expect(after.summary.findingWrites).toBe(0);
    expect(after.findings.map((f) => f.policyId).sort()).toEqual(first.findings.map((f) => f.policyId).sort());
  }, 60_000);

  it("list the revocation, restore it as the tenant's security admin, and refuse once npm start has stopped", async () => {
    const listed = await grantguardBin(["revocations", "list", "--json"], shellEnv());
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toMatch(/^grantguard: using the local Azure of npm start \(pid \d+, .*local\.json\) as mia@contoso\.com\n$/);
    const { revocations } = JSON.parse(listed.stdout) as { revocations: { id: string; assignmentId: string; status: string }[] };
    expect(revocations).toEqual([expect.objectContaining({ assignmentId: GUEST_OWNER, status: "deleted" })]);
    const id = revocations[0]!.id;

    const restored = await grantguardBin(["restore", id, "--reason", "Fabrikam contract renewed, approved in CAB-42"], shellEnv());
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toBe(`restored ${GUEST_OWNER} (User bbbbbbbb-0000-4000-8000-000000000002, role 8e3af657-a8ff-443c-a75c-2fe8c4bcb635) as mia@contoso.com: Fabrikam contract renewed, approved in CAB-42\n`);
    const after = JSON.parse((await grantguardBin(["revocations", "list", "--json"], shellEnv())).stdout) as { revocations: { status: string; restoredBy: string }[] };
    expect(after.revocations).toEqual([expect.objectContaining({ status: "restored", restoredBy: "mia@contoso.com" })]);
    // The re-created assignment's write event reached npm start's functions, which leave it alone.
    await expect.poll(() => startOutput, { timeout: 10_000 }).toContain("a person restored this assignment after grantguard revoked it (mia@contoso.com");

    start.kill("SIGINT");
    await new Promise((resolve) => start.once("exit", resolve));
    expect(existsSync(join(dir, "local.json"))).toBe(false);
    const stopped = await grantguardBin(["revocations", "list"], shellEnv());
    expect(stopped.code).toBe(64);
    expect(stopped.stderr).toBe("grantguard: set GRANTGUARD_TABLE_ENDPOINT (the Table Storage where grantguard keeps its state), or start the local Azure with npm start\n");
  }, 60_000);
});
