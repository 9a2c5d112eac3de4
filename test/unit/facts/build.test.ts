import { describe, expect, it } from "vitest";
import { buildFacts, gatherContext, type ContextFacts } from "../../../shared/facts/build.js";
import { SnapshotContext } from "../../../shared/facts/snapshotContext.js";
import { FACT_CATALOGUE } from "../../../shared/facts/catalogue.js";
import { roleAssignmentFromArm, roleDefinitionFromArm } from "../../../shared/model/access.js";
import { readTenantSnapshot } from "../../../shared/model/snapshot.js";
import { fixture } from "../../support/testAzure.js";

const snapshot = await readTenantSnapshot(fixture("tenants/small.json"));
const assignment = (name: string) => roleAssignmentFromArm(snapshot.roleAssignments.find((a) => a.name === name)!);
const role = (guid: string) => roleDefinitionFromArm(snapshot.roleDefinitions.find((d) => d.name === guid)!);
const principal = (id: string) => snapshot.principals.find((p) => p.id === id) ?? null;
const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const TENANT = snapshot.tenantId;
const tenant = new SnapshotContext(snapshot);
const NO_CONTEXT: ContextFacts = {
  scopeSummary: { assignments: 0, owners: 0, permanentOwners: 0, privilegedAssignments: 0 },
  pim: { viaPim: null, permanent: null, assignmentType: null },
  duplicateRoleNames: [],
  workloads: { known: false, resourceIds: [], resourceGroups: [] },
};

function factsFor(name: string, roleGuid = OWNER) {
  const a = assignment(name);
  return buildFacts({ assignment: a, role: role(roleGuid), principal: principal(a.principalId), grantedBy: null, tenantId: TENANT, context: NO_CONTEXT });
}

describe("buildFacts", () => {
  it("produces exactly the documented facts, with null for what is absent", () => {
    const facts = factsFor("a0000001-0000-4000-8000-000000000001");
    for (const [variable, fields] of Object.entries(FACT_CATALOGUE)) {
      expect(Object.keys(facts[variable as keyof typeof facts]).sort(), variable).toEqual(Object.keys(fields).sort());
      for (const value of Object.values(facts[variable as keyof typeof facts])) expect(value).not.toBeUndefined();
    }
    expect(facts.grantedBy).toEqual({ objectId: null, upn: null, name: null, appId: null, ipAddress: null, identityType: null, seenInBaseline: null });
    expect(facts.activity.known, "the event path and the what-if have no logs").toBe(false);
  });

  it("tells guests, members, disabled users, managed identities, applications, groups and deleted identities apart", () => {
    const kinds = Object.fromEntries(
      ["a0000001", "a0000002", "a0000007", "a0000003", "a0000005", "a0000009", "a0000006"].map((prefix) => {
        const name = `${prefix}-0000-4000-8000-00000000000${prefix.slice(-1)}`;
        const p = factsFor(name).principal;
        return [prefix, [p.kind, p.guest, p.disabled, p.exists, p.managedIdentityType, p.external]];
      }),
    );
    expect(kinds).toEqual({
      a0000001: ["guest", true, false, true, null, true],
      a0000002: ["user", false, false, true, null, false],
      a0000007: ["user", false, true, true, null, false],
      a0000003: ["managedIdentity", false, false, true, "systemAssigned", false],
      a0000005: ["servicePrincipal", false, false, true, null, false],
      a0000009: ["group", false, false, true, null, false],
      a0000006: ["unknown", false, false, false, null, false],
    });
  });

  it("takes a guest from userType, not from the UPN: an external member with an #EXT# UPN is external but no guest", () => {
    const a = assignment("a0000001-0000-4000-8000-000000000001");
    const member = { ...principal(a.principalId)!, userType: "Member" } as NonNullable<ReturnType<typeof principal>>;
    const facts = buildFacts({ assignment: a, role: role(OWNER), principal: member, grantedBy: null, tenantId: TENANT, context: NO_CONTEXT });
    expect(facts.principal).toMatchObject({ kind: "user", guest: false, external: true });
  });

  it("describes a ForeignGroup as an external group-like principal that exists, without a directory object", () => {
    const a = { ...assignment("a0000009-0000-4000-8000-000000000009"), principalType: "ForeignGroup" };
    const facts = buildFacts({ assignment: a, role: role(OWNER), principal: null, grantedBy: null, tenantId: TENANT, context: NO_CONTEXT });
    expect(facts.principal).toMatchObject({ kind: "foreignGroup", exists: true, external: true, guest: false, disabled: false, displayName: null });
  });

  it("marks a service principal owned by another tenant as external and notes its password credentials", () => {
    const a = assignment("a0000005-0000-4000-8000-000000000005");
    const sp = principal(a.principalId)!;
    const foreign = { ...sp, appOwnerOrganizationId: "00000000-1111-2222-3333-444444444444" };
    const facts = buildFacts({ assignment: a, role: role(OWNER), principal: foreign, grantedBy: null, tenantId: TENANT, context: NO_CONTEXT });
    expect(facts.principal).toMatchObject({ external: true, hasPasswordCredentials: true, kind: "servicePrincipal" });
  });

  it("records the ABAC condition and the scope level", () => {
    const a = { ...assignment("a0000004-0000-4000-8000-000000000004"), condition: "@Resource[x] StringEquals 'y'" };
    const facts = buildFacts({ assignment: a, role: role(OWNER), principal: null, grantedBy: null, tenantId: TENANT, context: NO_CONTEXT });
    expect(facts.assignment.hasCondition).toBe(true);
    expect(facts.scope).toMatchObject({ level: "subscription", subscriptionId: "11111111-1111-4111-8111-111111111111" });
    expect(facts.role).toMatchObject({ guid: OWNER, builtIn: true, custom: false, privileged: true });
  });

  it("reads counts at the scope, the system-assigned identity's workload and PIM from the snapshot (unknown without its section)", async () => {
    const a = assignment("a0000003-0000-4000-8000-000000000003");
    const contributor = role("b24988ac-6180-42a0-ab88-20f7382dd24c");
    const p = principal(a.principalId);
    const facts = buildFacts({ assignment: a, role: contributor, principal: p, grantedBy: null, tenantId: TENANT, context: await gatherContext(tenant, a, contributor, p) });
    expect(facts.atScope).toEqual({ assignments: 2n, owners: 0n, permanentOwners: 0n, ownerPercent: 0n, privilegedAssignments: 2n });
    expect(facts.principal).toMatchObject({ workloadsKnown: true, workloadResourceGroups: ["/subscriptions/11111111-1111-4111-8111-111111111111/resourcegroups/rg-app"] });
    expect(facts.assignment).toMatchObject({ viaPim: false, permanent: true });
    const withoutPim = new SnapshotContext({ ...snapshot, roleAssignmentScheduleInstances: undefined });
    expect(await withoutPim.pimStatus(a)).toEqual({ viaPim: null, permanent: null, assignmentType: null });
  });
});
