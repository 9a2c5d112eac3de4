import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { PrincipalNotReplicatedError } from "../../shared/facts/principal.js";
import type { ResourceEvent } from "../../local/simulator/server.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// Who holds the role, as the event path learns it from Microsoft Graph through the real client:
// Graph's default property set, ForeignGroup principals, and principals not replicated yet.

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const RG = `${SUB}/resourceGroups/rg-app`;
const CONTRIBUTOR = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`;
const OWNER = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`;
const READER = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const DAN_CONTRIBUTOR = `${RG}/providers/Microsoft.Authorization/roleAssignments/a0000007-0000-4000-8000-000000000007`;

let azure: TestAzure;
const events: ResourceEvent[] = [];
beforeAll(async () => {
  azure = await startTestAzure();
  azure.local.simulator.onResourceEvent((e) => events.push(e));
});
afterAll(async () => {
  await azure?.stop();
});
beforeEach(async () => {
  azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
  events.length = 0;
});

const writeEvent = (assignmentId: string) => ({
  id: randomUUID(),
  eventType: "Microsoft.Resources.ResourceWriteSuccess",
  eventTime: new Date().toISOString(),
  subject: assignmentId,
  data: { operationName: "Microsoft.Authorization/roleAssignments/write", resourceUri: assignmentId, tenantId: azure.local.simulator.state.tenantId },
});
const lastEvent = () => events.at(-1)!;
const graphReads = () => azure.local.simulator.requests.filter((r) => r.route.startsWith("graph.")).length;

describe("principals from Microsoft Graph", () => {
  it("reports a disabled account's write access: accountEnabled is asked for, not left out of Graph's default set", async () => {
    const runtime = await azure.runtime();
    const outcome = await runtime.judgeGrantEvent(writeEvent(DAN_CONTRIBUTOR));
    if (outcome.status !== "judged") throw new Error("judged");
    expect(outcome.facts.principal).toMatchObject({ kind: "user", enabled: false, disabled: true });
    expect(outcome.open.map((f) => f.policyId)).toContain("blocked-account-write-permissions");
  });

  it("knows a guest from userType, and an external member (#EXT# UPN, userType Member) as external but not a guest", async () => {
    const simulator = azure.local.simulator;
    const member = { "@odata.type": "#microsoft.graph.user" as const, id: randomUUID(), displayName: "Eve External", userPrincipalName: "eve_partner.com#EXT#@contoso.onmicrosoft.com", userType: "Member", accountEnabled: true, createdDateTime: "2025-01-01T00:00:00Z" };
    const guest = { ...member, id: randomUUID(), displayName: "Gus Guest", userPrincipalName: "gus@contoso.com", userType: "Guest" };
    simulator.addPrincipal(member);
    simulator.addPrincipal(guest);
    const runtime = await azure.runtime();
    const facts = async (principalId: string) => {
      simulator.grant({ scope: RG, roleDefinitionId: OWNER, principalId }, ADA);
      const outcome = await runtime.judgeGrantEvent(lastEvent());
      if (outcome.status !== "judged") throw new Error("judged");
      return outcome.facts.principal;
    };
    expect(await facts(member.id)).toMatchObject({ kind: "user", guest: false, external: true });
    expect(await facts(guest.id)).toMatchObject({ kind: "guest", guest: true, external: true });
  });

  it("never asks Graph about a ForeignGroup and never calls it deleted", async () => {
    const simulator = azure.local.simulator;
    // Another directory's group: ARM takes it on the caller's word (principalType), Graph here has no such object.
    const assignment = simulator.grant({ scope: RG, roleDefinitionId: CONTRIBUTOR, principalId: randomUUID(), principalType: "ForeignGroup" }, ADA);
    const runtime = await azure.runtime();
    const before = graphReads();
    const outcome = await runtime.judgeGrantEvent(lastEvent());
    if (outcome.status !== "judged") throw new Error("judged");
    expect(graphReads()).toBe(before);
    expect(outcome.facts.principal).toMatchObject({ kind: "foreignGroup", exists: true, external: true, guest: false });
    expect(outcome.open.map((f) => f.policyId)).not.toContain("deleted-principal");
    expect(outcome.open.map((f) => f.policyId)).toContain("external-principal-privileged-role");
    expect(assignment.properties.principalType).toBe("ForeignGroup");
  });
});

describe("a principal Graph has not replicated yet", () => {
  const identity = () => ({
    "@odata.type": "#microsoft.graph.servicePrincipal" as const,
    id: randomUUID(),
    appId: randomUUID(),
    displayName: "id-new-pipeline",
    servicePrincipalType: "ManagedIdentity",
    appOwnerOrganizationId: null,
    alternativeNames: ["isExplicit=True", `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-new-pipeline`],
    passwordCredentials: [],
    keyCredentials: [],
    accountEnabled: true,
  });

  it("is looked up again with back-off, and judged as the identity it is once Graph answers", async () => {
    const simulator = azure.local.simulator;
    const sp = identity();
    simulator.addPrincipal(sp, { reads: 2 });
    simulator.grant({ scope: RG, roleDefinitionId: READER, principalId: sp.id, principalType: "ServicePrincipal" }, ADA);
    const runtime = await azure.runtime();
    const outcome = await runtime.judgeGrantEvent(lastEvent());
    if (outcome.status !== "judged") throw new Error("judged");
    expect(outcome.facts.principal).toMatchObject({ exists: true, kind: "managedIdentity", managedIdentityType: "userAssigned" });
    expect(outcome.open.map((f) => f.policyId)).not.toContain("deleted-principal");
  });

  it("fails the invocation for a brand-new assignment so Event Grid redelivers it, writing no finding, and the redelivery judges it", async () => {
    const simulator = azure.local.simulator;
    const sp = identity();
    simulator.addPrincipal(sp, { ms: 60_000 });
    simulator.grant({ scope: RG, roleDefinitionId: OWNER, principalId: sp.id, principalType: "ServicePrincipal" }, ADA);
    const event = lastEvent();
    const runtime = await azure.runtime();
    await expect(runtime.judgeGrantEvent(event)).rejects.toBeInstanceOf(PrincipalNotReplicatedError);
    expect(await runtime.services.findings.list()).toEqual([]);
    expect(await runtime.services.ledger.list()).toEqual([expect.objectContaining({ outcome: "failed", reason: expect.stringContaining("does not know principal") })]);

    simulator.addPrincipal(sp); // replicated
    const redelivered = await runtime.judgeGrantEvent(event);
    if (redelivered.status !== "judged") throw new Error("judged");
    expect(redelivered.facts.principal.exists).toBe(true);
    expect((await runtime.services.findings.list()).map((f) => f.policyId)).not.toContain("deleted-principal");
  });

  it("is still reported deleted when the assignment is old and Graph keeps answering that it does not exist", async () => {
    const runtime = await azure.runtime();
    const orphan = `${RG}/providers/Microsoft.Authorization/roleAssignments/a0000006-0000-4000-8000-000000000006`;
    const before = graphReads();
    const outcome = await runtime.judgeGrantEvent(writeEvent(orphan));
    if (outcome.status !== "judged") throw new Error("judged");
    expect(graphReads() - before).toBe(4); // one read and three retries
    expect(outcome.open.map((f) => f.policyId)).toContain("deleted-principal");
  });
});
