import { spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// bin/grantguard.js runs the build; in a development checkout it refuses a missing or stale one
// in one line, exit 70, rather than a stack trace or yesterday's code.

const BIN = fileURLToPath(new URL("../../../bin/grantguard.js", import.meta.url));

/** A checkout with the launcher, one source file and, when asked, a build of the given age. */
async function checkout(build: "none" | "older" | "newer"): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "gg-launcher-"));
  await mkdir(join(root, "bin"));
  await copyFile(BIN, join(root, "bin", "grantguard.js"));
  await mkdir(join(root, "shared", "cli"), { recursive: true });
  const source = join(root, "shared", "cli", "verb.ts");
  await writeFile(source, "export {};\n");
  if (build !== "none") {
    await mkdir(join(root, "dist", "shared", "cli"), { recursive: true });
    const entry = join(root, "dist", "shared", "cli", "bin.js");
    await writeFile(entry, 'export async function main() { process.stdout.write("ran the build\\n"); return 0; }\n');
    const sourceTime = new Date("2026-01-01T00:00:00Z");
    await utimes(source, sourceTime, sourceTime);
    const buildTime = new Date(sourceTime.getTime() + (build === "newer" ? 60_000 : -60_000));
    await utimes(entry, buildTime, buildTime);
  }
  return root;
}

const launch = (root: string) => spawnSync(process.execPath, [join(root, "bin", "grantguard.js"), "--help"], { encoding: "utf8" });

describe("the grantguard launcher", () => {
  it("says in one line that the command line must be built when dist/ is missing, exit 70", async () => {
    const result = launch(await checkout("none"));
    expect(result.status).toBe(70);
    expect(result.stderr).toBe("grantguard: the command line is not built yet: run npm run build (npm ci does it too)\n");
  });

  it("refuses a build older than the sources, naming the newer source, exit 70", async () => {
    const result = launch(await checkout("older"));
    expect(result.status).toBe(70);
    expect(result.stderr).toBe(`grantguard: the build in dist/ is older than ${join("shared", "cli", "verb.ts")}: run npm run build\n`);
  });

  it("runs the build when it is newer than every source", async () => {
    const result = launch(await checkout("newer"));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe("ran the build\n");
  });
});
