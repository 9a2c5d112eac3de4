import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findingSchema, type Finding } from "../../../shared/model/finding.js";
import { grantguard } from "../../support/cli.js";
import { fixture } from "../../support/testAzure.js";

const POLICIES = fileURLToPath(new URL("../../../policies", import.meta.url));
const SMALL = fixture("tenants/small.json");
const GUEST_OWNER = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001";

/** A copy of the built-in pack in a temporary directory, to break or exempt things in. */
async function packCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "grantguard-pack-"));
  await cp(POLICIES, dir, { recursive: true });
  return dir;
}

describe("grantguard evaluate", () => {
  it("prints each finding with what matched, on which values, and what it would do; exit 1 on open findings", async () => {
    const { code, out } = await grantguard("evaluate", "--tenant", SMALL);
    expect(code).toBe(1);
    expect(out).toContain("HIGH     guest-privileged-role — Guest account with a privileged role");
    expect(out).toContain("Gil Guest (Fabrikam) [User bbbbbbbb-0000-4000-8000-000000000002] holds Owner at resourceGroup");
    expect(out).toContain("why: principal.guest = true, role.privileged = true");
    expect(out).toContain("would: alert");
    expect(out).toMatch(/\d+ open finding\(s\) \(1 critical, \d+ high, \d+ medium, \d+ low\) over 9 assignment\(s\) and 24 policies\./);
  });

  it("prints {findings} with the Table Storage field names in JSON, and obeys --fail-on", async () => {
    const { code, out } = await grantguard("evaluate", "--tenant", SMALL, "--json", "--fail-on", "critical");
    expect(code).toBe(1); // the root-scope assignment is critical
    const { findings } = JSON.parse(out) as { findings: Finding[] };
    // The same fields, by name, as the findings table stores (the finding schema).
    expect(Object.keys(findings[0]!).sort()).toEqual(Object.keys(findingSchema.shape).sort());
    expect(Object.keys(findings[0]!)).toEqual(expect.arrayContaining(["id", "policyId", "severity", "status", "assignmentId", "principalId", "principalType", "roleDefinitionId", "roleName", "scope", "action", "reason", "firstSeen", "lastSeen", "grantedBy"]));
    expect((await grantguard("evaluate", "--tenant", SMALL, "--fail-on", "never")).code).toBe(0);
  });

  it("says what a revoke policy would do, without revoking anything", async () => {
    const pack = `${POLICIES},${fileURLToPath(new URL("../../../local/demo/revoke-pack", import.meta.url))}`;
    const { findings } = JSON.parse((await grantguard("evaluate", "--tenant", SMALL, "--policies", pack, "--json")).out) as { findings: Finding[] };
    expect(findings.find((f) => f.policyId === "demo-revoke-guest-privileged")).toMatchObject({ action: "revoke", responseKind: "wouldRevoke", assignmentId: GUEST_OWNER });
    expect((await grantguard("evaluate", "--tenant", SMALL, "--policies", pack)).out).toContain("would: revoke the assignment in enforce mode unless a guard rail stops it (in audit mode: alert)");
  });

  it("judges only the assignment an event names, with the event's caller as granter", async () => {
    const { code, out } = await grantguard("evaluate", "--tenant", SMALL, "--event", fixture("events/guest-owner-write.json"), "--json");
    expect(code).toBe(1);
    const { findings } = JSON.parse(out) as { findings: Finding[] };
    expect(new Set(findings.map((f) => f.assignmentId))).toEqual(new Set([GUEST_OWNER]));
    expect(findings.every((f) => f.grantedBy === "ada@contoso.com" && f.grantedByIpAddress === "203.0.113.7")).toBe(true);
  });

  it("records an exempted match as exempted, and brings it back when the exemption has expired", async () => {
    const dir = await packCopy();
    const exemption = (expires: string) => `exemptions:
  - id: accept-fabrikam-contractor
    policy: guest-privileged-role
    principalId: bbbbbbbb-0000-4000-8000-000000000002
    scope: /subscriptions/11111111-1111-4111-8111-111111111111
    owner: secops@contoso.com
    justification: Fabrikam runs rg-app under contract C-1234 until its migration ends.
    expires: ${expires}
`;
    await writeFile(join(dir, "exemptions.yaml"), exemption("2099-12-31"));
    const active = JSON.parse((await grantguard("evaluate", "--tenant", SMALL, "--policies", dir, "--json")).out) as { findings: Finding[] };
    expect(active.findings.find((f) => f.policyId === "guest-privileged-role")).toMatchObject({ status: "exempted", exemptionId: "accept-fabrikam-contractor", exemptionOwner: "secops@contoso.com", exemptionExpires: "2099-12-31T23:59:59.000Z" });
    expect(active.findings.filter((f) => f.status === "exempted")).toHaveLength(1);
    const table = (await grantguard("evaluate", "--tenant", SMALL, "--policies", dir, "--all")).out;
    expect(table).toContain("exempted by accept-fabrikam-contractor (owner secops@contoso.com) until 2099-12-31T23:59:59.000Z");

    await writeFile(join(dir, "exemptions.yaml"), exemption("2020-01-31"));
    const expired = JSON.parse((await grantguard("evaluate", "--tenant", SMALL, "--policies", dir, "--json")).out) as { findings: Finding[] };
    expect(expired.findings.find((f) => f.policyId === "guest-privileged-role")?.status).toBe("open");
  });

  it("exits 2 naming the problem for a snapshot that is not one, and 64 for bad usage", async () => {
    const bad = join(await mkdtemp(join(tmpdir(), "gg-")), "t.json");
    await writeFile(bad, JSON.stringify({ roleAssignments: "nope" }));
    const invalid = await grantguard("evaluate", "--tenant", bad);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toMatch(/t\.json is not a valid tenant snapshot: tenantId/);
    const usage = await grantguard("evaluate");
    expect(usage.code).toBe(64);
    expect(usage.err).toContain("evaluate needs --tenant FILE");
  });
});

describe("grantguard test, validate, policies", () => {
  it("runs every case, one line each, and closes with N passed, N failed", async () => {
    const { code, out } = await grantguard("test");
    expect(code).toBe(0);
    expect(out).toContain("✓ guest-privileged-role › guest holding Owner");
    expect(out).toMatch(/\n\d+ passed, 0 failed\n$/);
  });

  it("exits 1 and says why when a case fails", async () => {
    const dir = await packCopy();
    const file = join(dir, "root-scope-assignment.yaml");
    const { readFile } = await import("node:fs/promises");
    await writeFile(file, (await readFile(file, "utf8")).replace('condition: scope.level == "root"', 'condition: scope.level == "managementGroup"'));
    const { code, out } = await grantguard("test", dir);
    expect(code).toBe(1);
    expect(out).toMatch(/✗ root-scope-assignment › User Access Administrator at \/ — expected match, got no-match \[.*root-scope-assignment\.yaml\]/);
    expect(out).toMatch(/\n\d+ passed, [1-9]\d* failed\n$/);
  });

  it("validates the built-in pack, and reports broken policy and exemption files with file:line and exit 2", async () => {
    expect((await grantguard("validate")).out).toMatch(/24 policies and 0 exemption\(s\) in .* are valid/);
    const dir = await packCopy();
    await writeFile(join(dir, "broken.yaml"), "id: broken-one\ntitle: A broken policy\nseverity: high\naction: alert\ndescription: This one reads a fact that does not exist.\ncondition: principal.isGuest\n");
    await writeFile(join(dir, "exemptions.yaml"), "exemptions:\n  - id: too-broad\n    policy: '*'\n    owner: me@contoso.com\n    justification: Everything is fine, trust me, really.\n    expires: 2027-01-01\n  - id: unknown-policy\n    policy: no-such-policy\n    principalId: x\n    owner: me@contoso.com\n    justification: Accepting a policy that is not there.\n    expires: 2027-01-01\n");
    const { code, err } = await grantguard("validate", dir);
    expect(code).toBe(2);
    expect(err).toContain(`${join(dir, "broken.yaml")}:6 [broken-one]: condition: No such key: isGuest`);
    expect(err).toContain(`${join(dir, "exemptions.yaml")}:2 [too-broad]: exemption: an exemption for every policy must name a principal or a scope below the root`);
    expect(err).toContain(`${join(dir, "exemptions.yaml")}:8 [unknown-policy]: exemption: no policy 'no-such-policy' is loaded`);
    // The same pack refuses to evaluate: grantguard never judges with a partial pack.
    expect((await grantguard("evaluate", "--tenant", SMALL, "--policies", dir)).code).toBe(2);
  });

  it("lists the policies with the facts they read, and shows one in full", async () => {
    const list = await grantguard("policies", "list");
    expect(list.out).toMatch(/^ID\s+SEVERITY\s+ACTION\s+READS/);
    expect(list.out).toMatch(/root-scope-assignment\s+critical\s+alert\s+scope\.level/);
    const show = await grantguard("policies", "show", "pim-too-many-owners", "--json");
    expect(JSON.parse(show.out)).toMatchObject({ id: "pim-too-many-owners", parameters: { maxOwners: 3, maxOwnerPercent: 10 }, reads: ["role.guid", "atScope.owners", "atScope.ownerPercent"] });
    expect((await grantguard("policies", "show", "nope")).code).toBe(64);
  });

  it("answers --help on every verb", async () => {
    for (const verb of ["evaluate", "test", "policies", "validate", "snapshot"]) {
      const { code, out } = await grantguard(verb, "--help");
      expect(code, verb).toBe(0);
      expect(out, verb).toMatch(/^Usage: grantguard/);
    }
  });
});
