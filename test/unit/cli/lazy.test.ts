import { spawnSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fixture } from "../../support/testAzure.js";

// The command line loads a verb only when it runs, and the Azure SDKs only in verbs that reach Azure.

const BIN = fileURLToPath(new URL("../../../bin/grantguard.js", import.meta.url));
const RECORDER = fileURLToPath(new URL("../../support/recordImports.mjs", import.meta.url));

/** The modules the built command line loads for these arguments. */
async function loaded(args: readonly string[]): Promise<string[]> {
  const log = join(await mkdtemp(join(tmpdir(), "gg-imports-")), "imports.log");
  const result = spawnSync(process.execPath, ["--import", RECORDER, BIN, ...args], { env: { ...process.env, GRANTGUARD_TEST_IMPORT_LOG: log }, encoding: "utf8" });
  expect(result.status, result.stderr).not.toBe(70);
  return (await readFile(log, "utf8")).trim().split("\n");
}

const azureSdks = (urls: readonly string[]) => urls.filter((u) => u.includes("/node_modules/@azure"));
const verbs = (urls: readonly string[]) => urls.filter((u) => u.includes("/dist/shared/cli/verbs/"));

describe("what the command line loads", () => {
  it("--help loads no verb and no Azure SDK", async () => {
    const urls = await loaded(["--help"]);
    expect(verbs(urls)).toEqual([]);
    expect(azureSdks(urls)).toEqual([]);
  });

  it("evaluate and a response verb's --help load no Azure SDK, which the response verb loads when it runs", async () => {
    const evaluate = await loaded(["evaluate", "--tenant", fixture("tenants/small.json"), "--fail-on", "never"]);
    expect(verbs(evaluate).map((u) => u.split("/").pop())).toEqual(["evaluate.js"]);
    expect(azureSdks(evaluate)).toEqual([]);
    expect(azureSdks(await loaded(["restore", "--help"]))).toEqual([]);
    expect(azureSdks(await loaded(["revocations", "list"])).some((u) => u.includes("@azure/identity"))).toBe(true);
  });
});
