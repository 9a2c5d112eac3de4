import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { grantguard } from "../support/cli.js";
import { fixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// `grantguard doctor --app …` against the local Azure, through the real ARM, Graph and Log
// Analytics clients: a tenant holding a well-made deployment passes; a tenant where a right,
// a permission, an event subscription or a Key Vault reference is missing fails, naming it.

const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const RG = `${SUB}/resourceGroups/rg-grantguard`;
const APP = `${RG}/providers/Microsoft.Web/sites/func-grantguard-x7k2`;
const IDENTITY = "6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40";
const REVOKER = `${SUB}/providers/Microsoft.Authorization/roleDefinitions/d8e3b0f5-2a4c-4e7b-9f6d-3c0a1b8e4f72`;
const OWNER = "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const AUDIT_LOG_READ_ALL = "b0afded3-3588-46d8-8b3d-9842eff778da";
const USER_READ_ALL = "df021288-bdef-4463-88db-98f22de89214";

let azure: TestAzure;
let deployment: TenantSnapshot;

beforeAll(async () => {
  deployment = await readTenantSnapshot(fixture("tenants/deployment.json"));
  azure = await startTestAzure("tenants/deployment.json");
});
afterAll(async () => {
  await azure?.stop();
});
beforeEach(() => azure.local.simulator.reset(structuredClone(deployment)));

/** The deployment tenant, changed by `edit`, served from now on. */
function serve(edit: (t: TenantSnapshot & { appRoleAssignments: Array<Record<string, unknown>> }) => void): void {
  const tenant = structuredClone(deployment) as TenantSnapshot & { appRoleAssignments: Array<Record<string, unknown>> };
  edit(tenant);
  azure.local.simulator.reset(tenant);
}

function appSettings(t: TenantSnapshot): Record<string, string> {
  const config = t.resources.find((r) => r.id === `${APP}/config/appsettings`);
  return (config as unknown as { properties: Record<string, string> }).properties;
}

function assignment(name: string, roleDefinitionId: string, condition: string | null = null) {
  return {
    id: `${SUB}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    type: "Microsoft.Authorization/roleAssignments",
    properties: { roleDefinitionId, principalId: IDENTITY, principalType: "ServicePrincipal", scope: SUB, condition, conditionVersion: condition ? "2.0" : null, description: null, createdOn: "2026-01-05T09:00:00Z", updatedOn: "2026-01-05T09:00:00Z", createdBy: null, updatedBy: null, delegatedManagedIdentityResourceId: null },
  };
}

const lines = (out: string) => out.trimEnd().split("\n");
const line = (out: string, name: string) => lines(out).find((l) => l.slice(6).startsWith(`${name}:`)) ?? `(no line for ${name})`;

describe("grantguard doctor --app", () => {
  it("passes a well-made deployment: one ok line per check, read through ARM, Graph, Event Grid and Log Analytics, exit 0", async () => {
    // The audit trail's vault is the simulator's Key Vault, where the key exists at start.
    serve((t) => void (appSettings(t).GRANTGUARD_KEY_VAULT_URL = azure.local.simulator.url));
    const result = await grantguard("doctor", "--app", APP);
    expect(result.err).toContain("all 9 checks passed");
    expect(result.code).toBe(0);
    expect(lines(result.out).map((l) => l.split(":")[0])).toEqual([
      "ok    settings",
      "ok    secrets",
      "ok    host",
      "ok    identity",
      `ok    rights at ${SUB}`,
      "ok    graph permissions",
      `ok    events of ${SUB}`,
      "ok    workspace",
      "ok    signing key",
    ]);
    // The Teams webhook is a Key Vault reference: counted, left to the platform to resolve.
    expect(line(result.out, "settings")).toContain("1 from Key Vault references");
    expect(line(result.out, `rights at ${SUB}`)).toContain("writes nothing (grantguard access reader");
    const routes = azure.local.simulator.requests.map((r) => r.route);
    expect(routes).toEqual(expect.arrayContaining(["web.appSettings.list", "arm.roleAssignments.list", "arm.roleDefinitions.get", "graph.servicePrincipals.getByAppId", "graph.servicePrincipals.appRoleAssignments", "eventGrid.systemTopics.listBySubscription", "eventGrid.eventSubscriptions.list", "logAnalytics.query"]));
  });

  it("fails when the identity cannot read role assignments at the watched subscription, and says which role to assign", async () => {
    serve((t) => {
      t.roleAssignments = t.roleAssignments.filter((a) => a.properties.principalId !== IDENTITY);
    });
    const result = await grantguard("doctor", "--app", APP);
    expect(result.code).toBe(1);
    expect(line(result.out, `rights at ${SUB}`)).toBe(
      `fail  rights at ${SUB}: cannot roleAssignments/read, roleDefinitions/read, roleAssignmentScheduleInstances/read (holds no role) → assign grantguard's access reader role (infra/app/roles.bicep) to the identity here: azd provision with this scope watched`,
    );
  });

  it("fails at a management group above the subscription where the identity reads, as a grant below does not reach up", async () => {
    const root = "/providers/Microsoft.Management/managementGroups/3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13";
    const result = await grantguard("doctor", "--app", APP, "--scope", root, "--scope", SUB);
    expect(result.code).toBe(1);
    expect(line(result.out, `rights at ${root}`)).toMatch(/^fail {2}rights at \S+: cannot roleAssignments\/read/);
    expect(line(result.out, `rights at ${SUB}`)).toMatch(/^ok {4}/);
  });

  it("fails when the identity can do more than audit mode needs (an Owner assignment)", async () => {
    serve((t) => {
      t.roleAssignments.push(assignment("f0000001-0000-4000-8000-000000000001", OWNER));
    });
    const result = await grantguard("doctor", "--app", APP);
    expect(result.code).toBe(1);
    expect(line(result.out, `rights at ${SUB}`)).toMatch(/^fail {2}rights at \S+: holds roleAssignments\/delete in audit mode \(Owner\)/);
  });

  it("in enforce mode, fails without the delete right and passes with the conditioned revoker role", async () => {
    serve((t) => {
      appSettings(t).GRANTGUARD_MODE = "enforce";
    });
    const without = await grantguard("doctor", "--app", APP);
    expect(without.code).toBe(1);
    expect(line(without.out, `rights at ${SUB}`)).toMatch(/^fail {2}rights at \S+: enforce mode, but cannot delete role assignments here/);

    const condition = `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidNotEquals {${IDENTITY}}))`;
    serve((t) => {
      appSettings(t).GRANTGUARD_MODE = "enforce";
      t.roleAssignments.push(assignment("f0000002-0000-4000-8000-000000000002", REVOKER, condition));
    });
    const withRevoker = await grantguard("doctor", "--app", APP);
    expect(line(withRevoker.out, `rights at ${SUB}`)).toMatch(/^ok {4}rights at \S+: reads role assignments, definitions and PIM; deletes role assignments only/);
    expect(withRevoker.code).toBe(0);

    serve((t) => {
      appSettings(t).GRANTGUARD_MODE = "enforce";
      t.roleAssignments.push(assignment("f0000003-0000-4000-8000-000000000003", REVOKER));
    });
    const unconditioned = await grantguard("doctor", "--app", APP);
    expect(line(unconditioned.out, `rights at ${SUB}`)).toMatch(/^warn {2}rights at \S+: can delete role assignments without a condition/);
  });

  it("fails without User.Read.All in Microsoft Graph, and warns without AuditLog.Read.All", async () => {
    serve((t) => {
      t.appRoleAssignments = t.appRoleAssignments.filter((a) => a.appRoleId !== USER_READ_ALL);
    });
    const noUsers = await grantguard("doctor", "--app", APP);
    expect(noUsers.code).toBe(1);
    expect(line(noUsers.out, "graph permissions")).toBe("fail  graph permissions: lacks User.Read.All (users and guests) → run infra/scripts/graph-permissions.sh as a Privileged Role Administrator (admin consent)");

    serve((t) => {
      t.appRoleAssignments = t.appRoleAssignments.filter((a) => a.appRoleId !== AUDIT_LOG_READ_ALL);
    });
    const noAudit = await grantguard("doctor", "--app", APP);
    expect(noAudit.code).toBe(0);
    expect(line(noAudit.out, "graph permissions")).toMatch(/^warn {2}graph permissions: lacks AuditLog\.Read\.All/);
  });

  it("fails when the subscription's events are not subscribed, or arrive in batches", async () => {
    serve((t) => {
      t.resources = t.resources.filter((r) => r.type !== "Microsoft.EventGrid/systemTopics/eventSubscriptions");
    });
    const none = await grantguard("doctor", "--app", APP);
    expect(none.code).toBe(1);
    expect(line(none.out, `events of ${SUB}`)).toMatch(/^fail {2}events of \S+: no event subscription of \S+ delivers to judgeGrantEvent/);

    serve((t) => {
      const subscription = t.resources.find((r) => r.type === "Microsoft.EventGrid/systemTopics/eventSubscriptions") as unknown as { properties: { destination: { properties: { maxEventsPerBatch: number } } } };
      subscription.properties.destination.properties.maxEventsPerBatch = 10;
    });
    const batched = await grantguard("doctor", "--app", APP);
    expect(batched.code).toBe(1);
    expect(line(batched.out, `events of ${SUB}`)).toContain("maxEventsPerBatch is 10, not 1");
  });

  it("fails on a webhook URL kept in plain text in the app settings", async () => {
    serve((t) => {
      appSettings(t).GRANTGUARD_SLACK_WEBHOOK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXX";
    });
    const result = await grantguard("doctor", "--app", APP);
    expect(result.code).toBe(1);
    expect(line(result.out, "secrets")).toMatch(/^fail {2}secrets: a secret in plain text: GRANTGUARD_SLACK_WEBHOOK_URL → keep webhook URLs and secrets in Key Vault/);
  });

  it("fails on a setting grantguard would refuse at start-up, naming it", async () => {
    serve((t) => {
      appSettings(t).GRANTGUARD_MAX_REVOCATIONS = "lots";
    });
    const result = await grantguard("doctor", "--app", APP);
    expect(result.code).toBe(1);
    expect(line(result.out, "settings")).toMatch(/^fail {2}settings: invalid settings: GRANTGUARD_MAX_REVOCATIONS: /);
  });

  it("fails when the app's identity is not set, with the setting to add", async () => {
    serve((t) => {
      delete appSettings(t).AZURE_CLIENT_ID;
    });
    const result = await grantguard("doctor", "--app", APP);
    expect(result.code).toBe(1);
    expect(line(result.out, "host")).toContain("AZURE_CLIENT_ID is not set");
    expect(line(result.out, "identity")).toBe("fail  identity: AZURE_CLIENT_ID is not set: cannot tell which identity grantguard runs as → set AZURE_CLIENT_ID to the client id of grantguard's user-assigned identity");
  });

  it("says in one line, exit 3, when the function app does not exist", async () => {
    const result = await grantguard("doctor", "--app", `${RG}/providers/Microsoft.Web/sites/nope`);
    expect(result.code).toBe(3);
    expect(result.err).toMatch(/^grantguard: Azure refused the request \(HTTP 404 from Azure Resource Manager at https:\/\/127\.0\.0\.1:\d+\): The Resource 'Microsoft\.Web\/sites\/nope'/);
  });
});
