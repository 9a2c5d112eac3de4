import { describe, expect, it } from "vitest";
import type { Finding } from "../../../../shared/model/finding.js";
import { grantguard } from "../../../support/cli.js";
import { fixture } from "../../../support/testAzure.js";

const SWEEP = fixture("tenants/sweep.json");
const NOW = "2026-12-01T00:00:00.000Z";

describe("grantguard sweep --tenant", () => {
  it("judges a tenant and its logs as a security engineer would: idle, over-provisioned, unusual granter, management-group, root and owner-less subscription", async () => {
    const { code, out, err } = await grantguard("sweep", "--tenant", SWEEP, "--now", NOW, "--json");
    expect(code, err).toBe(1);
    const { findings } = JSON.parse(out) as { findings: Finding[] };
    const names = (policyId: string) => findings.filter((f) => f.policyId === policyId).map((f) => f.principalName ?? f.scope);
    expect(names("inactive-identity")).toEqual(["Ivan Idle"]);
    expect(names("unusual-granter")).toEqual(["Nina New"]);
    expect(findings.find((f) => f.policyId === "overprovisioned-role")?.reason).toContain('activity.narrowestBuiltInRole = "Virtual Machine Contributor"');
    expect(names("subscription-without-owner")).toHaveLength(1);
    expect(findings.some((f) => f.policyId === "management-group-privileged-grant")).toBe(true);
    expect(findings.some((f) => f.policyId === "root-scope-assignment")).toBe(true);
    expect(err).toMatch(/open finding\(s\) \(1 critical, \d+ high, \d+ medium, \d+ low\).*Swept 2 subscription\(s\)/);
  });

  it("runs over another tenant and its own logs with no stack trace, and never judges a group as an idle identity", async () => {
    const { code, out, err } = await grantguard("sweep", "--tenant", fixture("tenants/small.json"), "--now", NOW, "--lookback-days", "30", "--json", "--fail-on", "never");
    expect(code, err).toBe(0);
    const { findings } = JSON.parse(out) as { findings: Finding[] };
    expect(err).not.toMatch(/at \S+:\d+:\d+/);
    // Whatever the logs say, a group never counts as an identity that signs in.
    expect(findings.filter((f) => f.policyId === "inactive-identity").every((f) => f.principalType !== "Group")).toBe(true);
  });

  it("refuses bad usage with exit 64", async () => {
    expect((await grantguard("sweep")).code).toBe(64);
    expect((await grantguard("sweep", "--tenant", SWEEP, "--now", "yesterday")).code).toBe(64);
    expect((await grantguard("sweep", "--tenant", SWEEP, "--lookback-days", "0")).code).toBe(64);
  });
});
