import { describe, expect, it } from "vitest";
import { grantguard } from "../../../support/cli.js";

describe("grantguard policies", () => {
  it("lists the policies most severe first with the facts they read, and shows one in full; an unknown id or subcommand is bad usage", async () => {
    const list = await grantguard("policies", "list");
    expect(list.out).toMatch(/^ID\s+SEVERITY\s+ACTION\s+READS/);
    expect(list.out.split("\n")[2]).toMatch(/^root-scope-assignment\s+critical\s+alert\s+scope\.level/);
    const show = await grantguard("policies", "show", "pim-too-many-owners", "--json");
    expect(JSON.parse(show.out)).toMatchObject({ id: "pim-too-many-owners", parameters: { maxOwners: 3, maxOwnerPercent: 10 }, reads: ["role.guid", "atScope.owners", "atScope.ownerPercent"] });
    expect((await grantguard("policies", "show", "nope")).code).toBe(64);
    expect((await grantguard("policies", "frobnicate")).code).toBe(64);
    expect((await grantguard("policies")).code).toBe(64);
  });
});
