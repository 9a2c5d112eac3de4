import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantguardBin } from "../support/cli.js";
import { fixture } from "../support/testAzure.js";

// `npx grantguard doctor` with no settings at all, against a running `npm start`: it checks the
// local Azure as the function app's identity sees it, passes, and says what a local setup cannot show.

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
let dir: string;
let start: ChildProcess;
let startOutput = "";

/** A person's shell: no grantguard settings and no identity endpoint; only where npm start's file lives. */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(GRANTGUARD_|IDENTITY_|AZURE_)/.test(key)) env[key] = value;
  return { ...env, GRANTGUARD_LOCAL_DIR: dir };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gg-doctor-"));
  start = spawn(process.execPath, ["--import", "tsx", "local/trusted.ts", "local/main.ts", "--tenant", fixture("tenants/deployment.json")], { env: shellEnv(), stdio: ["ignore", "pipe", "pipe"] });
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

describe("grantguard doctor against npm start", () => {
  it("passes with no settings, checking the identity's rights, Graph permissions, workspace and signing key in the local tenant, and warns of what it cannot check there", async () => {
    const result = await grantguardBin(["doctor", "--scope", SUB], shellEnv());
    expect(result.stderr).toContain("grantguard: checking the local Azure of npm start");
    expect(result.stdout.trimEnd().split("\n").map((l) => l.split(":")[0])).toEqual([
      "ok    settings",
      "ok    secrets",
      "ok    identity",
      `ok    rights at ${SUB}`,
      "ok    graph permissions",
      "warn  events",
      "ok    workspace",
      "ok    signing key",
    ]);
    expect(result.stdout).toContain("the managed identity signs in as 6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40");
    expect(result.code).toBe(0);
  });

  it("fails, naming the scope, where the local tenant gives the identity no read access", async () => {
    const result = await grantguardBin(["doctor", "--scope", "/subscriptions/99999999-9999-4999-8999-999999999999"], shellEnv());
    expect(result.stdout).toMatch(/^fail {2}rights at \/subscriptions\/99999999-9999-4999-8999-999999999999: cannot roleAssignments\/read/m);
    expect(result.code).toBe(1);
  });
});
