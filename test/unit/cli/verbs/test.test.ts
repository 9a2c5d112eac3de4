import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { grantguard } from "../../../support/cli.js";
import { packCopy } from "../../../support/packs.js";

describe("grantguard test", () => {
  it("runs every case, one line each, and closes with N passed, N failed", async () => {
    const { code, out } = await grantguard("test");
    expect(code).toBe(0);
    expect(out).toContain("✓ guest-privileged-role › guest holding Owner");
    expect(out).toMatch(/\n\d+ passed, 0 failed\n$/);
  });

  it("exits 1 and says why when a case fails", async () => {
    const dir = await packCopy();
    const file = join(dir, "root-scope-assignment.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace('condition: scope.level == "root"', 'condition: scope.level == "managementGroup"'));
    const { code, out } = await grantguard("test", dir);
    expect(code).toBe(1);
    expect(out).toMatch(/✗ root-scope-assignment › User Access Administrator at \/ — expected match, got no-match \[.*root-scope-assignment\.yaml\]/);
    expect(out).toMatch(/\n\d+ passed, [1-9]\d* failed\n$/);
  });
});
