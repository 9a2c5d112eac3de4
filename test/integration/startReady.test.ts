import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, readFixture } from "../support/testAzure.js";

// `npm start` for scripts: one "ready" JSON line on stdout, first, with the API and page URLs and
// the demo users' tokens, so curl works at once; with --once --json the report stays the last line.

interface Ready {
  readonly ready: { readonly api: string; readonly page: string; readonly tokens: { readonly auditor: string; readonly securityAdmin: string; readonly noRole: string } };
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as { roles?: string[]; preferred_username?: string };

describe("npm start's ready line", () => {
  it("comes first on stdout, and its tokens and URLs work at once: an auditor reads, a user without a role is refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grantguard-ready-"));
    await writeFile(join(dir, "events.json"), JSON.stringify([await readFixture("events/guest-owner-write.json")]));
    const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts", "--tenant", fixture("tenants/small.json"), "--events", join(dir, "events.json"), "--json"], { env: process.env });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const firstLine = new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes("\n")) resolve(stdout.slice(0, stdout.indexOf("\n")));
      });
      child.on("exit", () => reject(new Error(`npm start ended before its ready line: ${stderr}`)));
    });
    try {
      const ready = JSON.parse(await firstLine) as Ready;
      expect(claims(ready.ready.tokens.auditor).roles).toEqual(["GrantGuard.Auditor"]);
      expect(claims(ready.ready.tokens.securityAdmin).roles).toEqual(["GrantGuard.SecurityAdmin"]);
      expect(claims(ready.ready.tokens.noRole).roles).toBeUndefined();
      const get = (path: string, token: string) => fetch(`${ready.ready.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect((await get("findings?status=open", ready.ready.tokens.auditor)).status).toBe(200);
      expect((await get("findings?status=open", ready.ready.tokens.securityAdmin)).status).toBe(200);
      expect((await get("findings?status=open", ready.ready.tokens.noRole)).status).toBe(403);
      const page = await fetch(ready.ready.page);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<title>grantguard");
      expect(stderr).toContain(`the findings page is at ${ready.ready.page}`);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  }, 90_000);

  it("with --once --json, stdout holds the ready line and then the report, one line each", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grantguard-ready-"));
    await writeFile(join(dir, "events.json"), JSON.stringify([await readFixture("events/guest-owner-write.json")]));
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts", "--tenant", fixture("tenants/small.json"), "--events", join(dir, "events.json"), "--once", "--json"], { env: process.env });
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.on("exit", (code) => resolve({ code, stdout }));
    });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(Object.keys(JSON.parse(lines[0]!) as object)).toEqual(["ready"]);
    expect(Object.keys(JSON.parse(lines[1]!) as object)).toContain("findings");
  }, 90_000);
});
