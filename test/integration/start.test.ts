import { exec, spawn } from "node:child_process";
import { writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, readFixture } from "../support/testAzure.js";

// `npm start` as a script uses it: --tenant, --events, --once, --json.

function runMain(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts", ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm start --once --json", () => {
  it("delivers the events of a file in order and prints findings and rejected events read back from Table Storage", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grantguard-start-"));
    const events = [await readFixture("events/guest-owner-write.json"), await readFixture("events/member-reader-write.json"), { id: "broken", eventType: "Nope" }, await readFixture("events/guest-owner-write.json")];
    await writeFile(join(dir, "events.json"), JSON.stringify(events));
    const result = await runMain(["--tenant", fixture("tenants/small.json"), "--events", join(dir, "events.json"), "--once", "--json"]);

    expect(result.code, result.stderr).toBe(0);
    const last = result.stdout.trim().split("\n").pop()!;
    const output = JSON.parse(last) as { findings: { policyId: string; status: string; assignmentName: string }[]; rejectedEvents: { eventId: string; reason: string }[] };
    expect(new Set(output.findings.map((f) => f.assignmentName))).toEqual(new Set(["a0000001-0000-4000-8000-000000000001"]));
    expect(output.findings.map((f) => [f.policyId, f.status])).toContainEqual(["guest-privileged-role", "open"]);
    expect(output.findings.length).toBe(new Set(output.findings.map((f) => f.policyId)).size);
    expect(output.rejectedEvents).toEqual([expect.objectContaining({ eventId: "broken", reason: expect.stringContaining("not a valid Event Grid event") })]);
    expect(result.stderr).toContain("JUDGED");
    // The dev host imports the functions as data: no "test mode" registration noise.
    expect(result.stdout + result.stderr).not.toMatch(/test mode|Skipping call to register/);
  }, 60_000);

  it("in enforce mode reports the revocation with its backup and the alerts with their delivery status", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grantguard-start-"));
    await writeFile(join(dir, "events.json"), JSON.stringify([await readFixture("events/guest-owner-write.json")]));
    const result = await runMain(["--tenant", fixture("tenants/small.json"), "--events", join(dir, "events.json"), "--policies", "policies,local/demo/revoke-pack", "--once", "--json"], { GRANTGUARD_MODE: "enforce" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("mode ENFORCE");
    const output = JSON.parse(result.stdout.trim().split("\n").pop()!) as {
      revocations: { assignmentId: string; policyIds: string[]; mode: string; status: string; backup: { principalId: string; roleDefinitionId: string; scope: string } }[];
      alerts: { channel: string; findingId: string; status: string }[];
    };
    expect(output.revocations).toEqual([
      expect.objectContaining({ assignmentId: expect.stringContaining("a0000001"), policyIds: ["demo-revoke-guest-privileged"], mode: "enforce", status: "deleted", backup: expect.objectContaining({ principalId: "bbbbbbbb-0000-4000-8000-000000000002", scope: expect.stringContaining("rg-app") }) }),
    ]);
    expect(output.alerts.length).toBeGreaterThan(0);
    expect(output.alerts.every((a) => a.channel === "webhook" && a.status === "delivered")).toBe(true);
    expect(result.stderr).toMatch(/alerts received by the local webhook receiver: \d+ \(every signature verified: true\)/);
  }, 60_000);

  it("with --sweep 2 runs two sweeps after the events: the first opens the tenant's findings with mg and root grants, the second writes nothing and sends nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grantguard-start-"));
    await writeFile(join(dir, "events.json"), "[]");
    const result = await runMain(["--tenant", fixture("tenants/sweep.json"), "--events", join(dir, "events.json"), "--once", "--json", "--sweep", "2"]);
    expect(result.code, result.stderr).toBe(0);
    type Sweep = { id: string; status: string; startedAt: string; finishedAt: string; durationMs: number; assignments: number; principals: number; shards: number; calls: Record<string, number>; findingWrites: number; resolved: number; alerts: number };
    const output = JSON.parse(result.stdout.trim().split("\n").pop()!) as { sweeps: Sweep[]; findings: { scope: string; lastEventId: string | null }[] };
    const [first, second] = output.sweeps;
    expect(output.sweeps).toHaveLength(2);
    expect(first).toMatchObject({ status: "succeeded", assignments: 10, resolved: 0 });
    expect(first!.findingWrites).toBeGreaterThan(0);
    expect(first!.alerts).toBeGreaterThan(0);
    expect(first!.calls).toMatchObject({ logAnalytics: 3 });
    expect(first!.durationMs).toBe(Date.parse(first!.finishedAt) - Date.parse(first!.startedAt));
    expect(second).toMatchObject({ status: "succeeded", assignments: 10, findingWrites: 0, resolved: 0, alerts: 0 });
    expect(second!.id).not.toBe(first!.id);
    // The sweep's findings are in the report, management-group and root grants among them.
    expect(output.findings.filter((f) => f.lastEventId === `sweep:${first!.id}`)).toHaveLength(first!.findingWrites);
    expect(output.findings.some((f) => f.scope === "/")).toBe(true);
    expect(result.stderr).toMatch(/sweep \S+ succeeded: 10 assignment\(s\).*0 finding write\(s\), 0 resolved, 0 alert\(s\)/);
  }, 90_000);

  it("exits 2 with a message when the events file is not a JSON array", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grantguard-start-"));
    await writeFile(join(dir, "events.json"), "{}");
    const result = await runMain(["--events", join(dir, "events.json"), "--once"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("must hold a JSON array");
  });

  it("stays up with the keyed Event Grid URL it prints, and the curl example it prints is answered 202", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grantguard-start-"));
    await writeFile(join(dir, "events.json"), "[]");
    const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts", "--tenant", fixture("tenants/small.json"), "--events", join(dir, "events.json")], { env: process.env });
    try {
      let stdout = "";
      const curl = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          const line = stdout.split("\n").find((l) => l.trim().startsWith("curl "));
          if (line && stdout.includes("Press Ctrl-C")) resolve(line.trim());
        });
        child.on("exit", () => reject(new Error(`exited early: ${stdout}`)));
      });
      expect(curl).toMatch(/\/runtime\/webhooks\/EventGrid\?functionName=judgeGrantEvent&code=[^&' ]+'$/);
      const status = await new Promise<string>((resolve, reject) => exec(`${curl} -o /dev/null -w '%{http_code}'`, (error, out) => (error ? reject(error) : resolve(out))));
      expect(status).toBe("202");
      const keyless = curl.replace(/&code=[^']*/, "");
      const refused = await new Promise<string>((resolve, reject) => exec(`${keyless} -o /dev/null -w '%{http_code}'`, (error, out) => (error ? reject(error) : resolve(out))));
      expect(refused).toBe("401");
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGINT");
        await exited;
      }
    }
  }, 60_000);
});
