import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { run } from "../../../../shared/cli/main.js";
import { findingSchema, type Finding } from "../../../../shared/model/finding.js";
import { SEVERITIES } from "../../../../shared/model/severity.js";
import { captureIo, grantguard } from "../../../support/cli.js";
import { repeatedSmallTenant } from "../../../support/tenants.js";
import { fixture } from "../../../support/testAzure.js";
import { packCopy, POLICIES } from "../../../support/packs.js";

const SMALL = fixture("tenants/small.json");
const GUEST_OWNER = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001";
const rank = (severity: string) => SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]);

type Output = { findings: Finding[]; summary: { assignments: number; policies: number; open: Record<string, number>; exempted: number; evaluationErrors: number } };

/** True when the findings come most severe first, then by policy id, then by scope. */
function inOutputOrder(findings: readonly { readonly severity: string; readonly policyId: string; readonly scope: string }[]): boolean {
  return findings.every((f, i) => {
    const prev = findings[i - 1];
    if (!prev) return true;
    const bySeverity = rank(prev.severity) - rank(f.severity);
    if (bySeverity !== 0) return bySeverity > 0;
    const byPolicy = prev.policyId.localeCompare(f.policyId);
    if (byPolicy !== 0) return byPolicy < 0;
    return prev.scope.toLowerCase() <= f.scope.toLowerCase();
  });
}

async function tenantFile(copies: number): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "gg-tenant-")), "tenant.json");
  await writeFile(file, JSON.stringify(await repeatedSmallTenant(copies)));
  return file;
}

describe("grantguard evaluate", () => {
  it("prints each finding with what matched, on which values, and what it would do, most severe first, then by policy and scope, and a summary line; exit 1 on open findings", async () => {
    const { code, out } = await grantguard("evaluate", "--tenant", SMALL);
    expect(code).toBe(1);
    expect(out).toContain("HIGH     guest-privileged-role — Guest account with a privileged role");
    expect(out).toContain("Gil Guest (Fabrikam) [User bbbbbbbb-0000-4000-8000-000000000002] holds Owner at resourceGroup");
    expect(out).toContain("why: principal.guest = true, role.privileged = true");
    expect(out).toContain("would: alert");
    const lines = out.trimEnd().split("\n");
    const heads = lines.filter((l) => /^(CRITICAL|HIGH|MEDIUM|LOW) /.test(l)).map((l) => ({ severity: l.split(" ")[0]!.toLowerCase(), policyId: l.split(/\s+/)[1]! }));
    const scopes = lines.filter((l) => / holds .* at \S+ \//.test(l)).map((l) => / at \S+ (\/\S*?)(,|$)/.exec(l)![1]!);
    expect(heads.length).toBe(24);
    expect(inOutputOrder(heads.map((h, i) => ({ ...h, scope: scopes[i]! })))).toBe(true);
    expect(heads[0]).toEqual({ severity: "critical", policyId: "root-scope-assignment" });
    expect(lines.at(-2)).toBe("");
    expect(lines.at(-1)).toBe("24 open finding(s) (1 critical, 4 high, 10 medium, 9 low) over 9 assignment(s) and 29 policies.");
  });

  it("prints {findings, summary} with the Table Storage field names in JSON, in the same order, the summary line on stderr, and obeys --fail-on", async () => {
    const { code, out, err } = await grantguard("evaluate", "--tenant", SMALL, "--json", "--fail-on", "critical");
    expect(code).toBe(1); // the root-scope assignment is critical
    const { findings, summary } = JSON.parse(out) as Output;
    expect(Object.keys(findings[0]!).sort()).toEqual(Object.keys(findingSchema.shape).sort());
    expect(inOutputOrder(findings)).toBe(true);
    expect(summary).toEqual({ assignments: 9, policies: 29, open: { critical: 1, high: 4, medium: 10, low: 9 }, exempted: 0, evaluationErrors: 0 });
    expect(err).toBe("24 open finding(s) (1 critical, 4 high, 10 medium, 9 low) over 9 assignment(s) and 29 policies.\n");
    expect((await grantguard("evaluate", "--tenant", SMALL, "--fail-on", "never")).code).toBe(0);
  });

  it("writes JSON in pieces as it drains, never the whole output as one string", async () => {
    const { io, result } = captureIo();
    expect(await run(["evaluate", "--tenant", await tenantFile(40), "--json"], io)).toBe(1);
    const output = JSON.parse(result.out) as Output;
    expect(output.findings.length).toBe(output.summary.open.critical! + output.summary.open.high! + output.summary.open.medium! + output.summary.open.low!);
    expect(output.summary.assignments).toBe(360);
    expect(result.chunks.length).toBeGreaterThan(10);
    expect(Math.max(...result.chunks.map((c) => c.length))).toBeLessThan(result.out.length / 4);
    expect(inOutputOrder(output.findings)).toBe(true);
  });

  it("shows a progress bar on a terminal's stderr and clears it, but not on a pipe nor while JSON goes to a program", async () => {
    const tenant = await tenantFile(20);
    const onTerminal = captureIo({ stderr: true, stdout: true });
    await run(["evaluate", "--tenant", tenant], onTerminal.io);
    expect(onTerminal.result.statuses.some((s) => /^evaluating \[[#.]+\] \d+% [\d,]+\/180 · [\d,]+ findings/.test(s))).toBe(true);
    expect(onTerminal.result.statuses.at(-1)).toBe("");
    const jsonToProgram = captureIo({ stderr: true, stdout: false });
    await run(["evaluate", "--tenant", tenant, "--json"], jsonToProgram.io);
    expect(jsonToProgram.result.statuses.filter((s) => s !== "")).toEqual([]);
    const piped = captureIo({ stderr: false, stdout: false });
    await run(["evaluate", "--tenant", tenant], piped.io);
    expect(piped.result.statuses.filter((s) => s !== "")).toEqual([]);
  });

  it("says what a revoke policy would do, without revoking anything", async () => {
    const pack = `${POLICIES},${fileURLToPath(new URL("../../../../local/demo/revoke-pack", import.meta.url))}`;
    const { findings } = JSON.parse((await grantguard("evaluate", "--tenant", SMALL, "--policies", pack, "--json")).out) as Output;
    expect(findings.find((f) => f.policyId === "demo-revoke-guest-privileged")).toMatchObject({ action: "revoke", responseKind: "wouldRevoke", assignmentId: GUEST_OWNER });
    expect((await grantguard("evaluate", "--tenant", SMALL, "--policies", pack)).out).toContain("would: revoke the assignment in enforce mode unless a guard rail stops it (in audit mode: alert)");
  });

  it("judges only the assignment an event names, with the event's caller as granter", async () => {
    const { code, out } = await grantguard("evaluate", "--tenant", SMALL, "--event", fixture("events/guest-owner-write.json"), "--json");
    expect(code).toBe(1);
    const { findings } = JSON.parse(out) as Output;
    expect(new Set(findings.map((f) => f.assignmentId))).toEqual(new Set([GUEST_OWNER]));
    expect(findings.every((f) => f.grantedBy === "ada@contoso.com" && f.grantedByIpAddress === "203.0.113.7")).toBe(true);
  });

  it("records an exempted match as exempted, counts it in the summary, and brings it back when the exemption has expired", async () => {
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
    const active = JSON.parse((await grantguard("evaluate", "--tenant", SMALL, "--policies", dir, "--json")).out) as Output;
    expect(active.findings.find((f) => f.policyId === "guest-privileged-role")).toMatchObject({ status: "exempted", exemptionId: "accept-fabrikam-contractor", exemptionOwner: "secops@contoso.com", exemptionExpires: "2099-12-31T23:59:59.000Z" });
    expect(active.summary).toMatchObject({ open: { high: 3 }, exempted: 1 });
    const text = await grantguard("evaluate", "--tenant", SMALL, "--policies", dir);
    expect(text.out).not.toContain("exempted by");
    expect(text.out.trimEnd().split("\n").at(-1)).toBe("23 open finding(s) (1 critical, 3 high, 10 medium, 9 low); 1 exempted (--all lists them) over 9 assignment(s) and 29 policies.");
    expect((await grantguard("evaluate", "--tenant", SMALL, "--policies", dir, "--all")).out).toContain("exempted by accept-fabrikam-contractor (owner secops@contoso.com) until 2099-12-31T23:59:59.000Z");

    await writeFile(join(dir, "exemptions.yaml"), exemption("2020-01-31"));
    const expired = JSON.parse((await grantguard("evaluate", "--tenant", SMALL, "--policies", dir, "--json")).out) as Output;
    expect(expired.findings.find((f) => f.policyId === "guest-privileged-role")?.status).toBe("open");
  });

  it("exits 2 naming the missing section of a snapshot without role definitions, rather than judging every role as deleted", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "gg-")), "t.json");
    const small = await repeatedSmallTenant(1);
    await writeFile(file, JSON.stringify({ ...small, roleDefinitions: undefined }));
    const result = await grantguard("evaluate", "--tenant", file);
    expect(result.code).toBe(2);
    expect(result.out).toBe("");
    expect(result.err).toBe(`grantguard: ${file} is not a valid tenant snapshot: the roleDefinitions section is missing (a snapshot lists the tenant's role definitions and role assignments, [] when there are none)\n`);
  });

  it("exits 2 naming the problem for a snapshot that is not one, and 64 for bad usage", async () => {
    const bad = join(await mkdtemp(join(tmpdir(), "gg-")), "t.json");
    await writeFile(bad, JSON.stringify({ roleDefinitions: [], roleAssignments: "nope" }));
    const invalid = await grantguard("evaluate", "--tenant", bad);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toMatch(/t\.json is not a valid tenant snapshot: tenantId/);
    const usage = await grantguard("evaluate");
    expect(usage.code).toBe(64);
    expect(usage.err).toContain("evaluate needs --tenant FILE");
    expect((await grantguard("evaluate", "--tenant", SMALL, "--fail-on", "severe")).code).toBe(64);
  });
});
