import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { grantguard } from "../../../support/cli.js";
import { fixture } from "../../../support/testAzure.js";
import { packCopy } from "../../../support/packs.js";

describe("grantguard validate", () => {
  it("validates the built-in pack, and reports broken policy and exemption files with file:line and exit 2", async () => {
    expect((await grantguard("validate")).out).toMatch(/29 policies and 0 exemption\(s\) in .* are valid/);
    const dir = await packCopy();
    await writeFile(join(dir, "broken.yaml"), "id: broken-one\ntitle: A broken policy\nseverity: high\naction: alert\ndescription: This one reads a fact that does not exist.\ncondition: principal.isGuest\n");
    await writeFile(join(dir, "exemptions.yaml"), "exemptions:\n  - id: too-broad\n    policy: '*'\n    owner: me@contoso.com\n    justification: Everything is fine, trust me, really.\n    expires: 2027-01-01\n  - id: unknown-policy\n    policy: no-such-policy\n    principalId: x\n    owner: me@contoso.com\n    justification: Accepting a policy that is not there.\n    expires: 2027-01-01\n");
    const { code, err } = await grantguard("validate", dir);
    expect(code).toBe(2);
    expect(err).toContain(`${join(dir, "broken.yaml")}:6 [broken-one]: condition: No such key: isGuest`);
    expect(err).toContain(`${join(dir, "exemptions.yaml")}:2 [too-broad]: exemption: an exemption for every policy must name a principal or a scope below the root`);
    expect(err).toContain(`${join(dir, "exemptions.yaml")}:8 [unknown-policy]: exemption: no policy 'no-such-policy' is loaded`);
    // The same pack refuses to evaluate, listing every error: grantguard never judges with a partial pack.
    const evaluate = await grantguard("evaluate", "--tenant", fixture("tenants/small.json"), "--policies", dir);
    expect(evaluate.code).toBe(2);
    expect(evaluate.err.trimEnd().split("\n")).toHaveLength(3);
  });
});
