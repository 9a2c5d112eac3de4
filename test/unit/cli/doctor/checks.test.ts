import { describe, expect, it } from "vitest";
import { checkEvents, checkKeys, checkSettings, checkWorkspace, formatResult, type DoctorInput, type DoctorSources, type EventSubscriptionView } from "../../../../shared/cli/doctor/checks.js";

// The checks with fake sources: what each concludes from what Azure answered, and the line it prints.

const APP = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Web/sites/func";
const SUB = "/subscriptions/11111111-1111-4111-8111-111111111111";
const BASE: DoctorInput = { settings: { GRANTGUARD_TABLE_ENDPOINT: "https://st.table.core.windows.net" }, source: "environment", appId: APP, scopes: [SUB], selfPrincipalId: null };

const refuse = (status: number) => Object.assign(new Error(`refused with ${status}`), { statusCode: status });

function sources(overrides: Partial<DoctorSources>): DoctorSources {
  const unexpected = () => Promise.reject(new Error("not expected in this test"));
  return { assignmentsOf: unexpected, roleDefinition: unexpected, servicePrincipalIdByAppId: unexpected, appRoleAssignments: unexpected, systemTopics: unexpected, eventSubscriptions: unexpected, queryTable: unexpected, sign: unexpected, ...overrides };
}

const judge: EventSubscriptionView = {
  id: `${SUB}/resourceGroups/rg/providers/Microsoft.EventGrid/systemTopics/t/eventSubscriptions/judge`,
  provisioningState: "Succeeded",
  endpointType: "AzureFunction",
  functionId: `${APP}/functions/judgeGrantEvent`,
  maxEventsPerBatch: 1,
  operationNames: ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete"],
  includedEventTypes: null,
  deadLetter: true,
};
const topic = { id: `${SUB}/resourceGroups/rg/providers/Microsoft.EventGrid/systemTopics/t`, source: SUB, topicType: "Microsoft.Resources.Subscriptions", provisioningState: "Succeeded" };

describe("checkKeys", () => {
  it("signs with the audit trail's key, named by the vault and key settings", async () => {
    const signed: string[] = [];
    const input = { ...BASE, settings: { GRANTGUARD_KEY_VAULT_URL: "https://kv-gg.vault.azure.net/", GRANTGUARD_AUDIT_KEY: "trail", GRANTGUARD_MODE: "audit" } };
    const results = await checkKeys(input, sources({ sign: async (keyId) => void signed.push(keyId) }));
    expect(signed).toEqual(["https://kv-gg.vault.azure.net/keys/trail"]);
    expect(results.map(formatResult)).toEqual(["ok    signing key: https://kv-gg.vault.azure.net/keys/trail signs"]);
  });

  it("reports a key that cannot sign with the role to grant", async () => {
    const input = { ...BASE, settings: { GRANTGUARD_KEY_VAULT_URL: "https://kv-gg.vault.azure.net", GRANTGUARD_MODE: "audit" } };
    const results = await checkKeys(input, sources({ sign: async () => Promise.reject(refuse(403)) }));
    expect(results.map(formatResult)).toEqual([
      "fail  signing key: https://kv-gg.vault.azure.net/keys/grantguard-audit does not sign (HTTP 403: refused with 403) → give the identity Key Vault Crypto User on the key, and check that the key exists and allows sign",
    ]);
  });

  it("warns when no vault is set: the trail's digests would never be signed", async () => {
    expect((await checkKeys(BASE, sources({}))).map((r) => `${r.status} ${r.name}`)).toEqual(["warn signing key"]);
  });
});

describe("checkWorkspace", () => {
  it("warns, naming the tables, when the workspace answers but lacks some the sweep reads", async () => {
    const input = { ...BASE, settings: { ...BASE.settings, GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID: "4d7a0e52-6b1c-4f8e-9a3d-2c5b8e1f0a67" } };
    const result = await checkWorkspace(input, sources({
        queryTable: async (_id, table) => {
          if (table.startsWith("AAD")) throw refuse(400);
        },
      }));
    expect(formatResult(result)).toBe(
      "warn  workspace: workspace 4d7a0e52-6b1c-4f8e-9a3d-2c5b8e1f0a67 answers but has no AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs → route Entra ID sign-in logs and the activity log to it (diagnostic settings)",
    );
  });

  it("fails when the workspace refuses (no Log Analytics Reader)", async () => {
    const input = { ...BASE, settings: { ...BASE.settings, GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID: "4d7a0e52-6b1c-4f8e-9a3d-2c5b8e1f0a67" } };
    const result = await checkWorkspace(input, sources({ queryTable: () => Promise.reject(refuse(403)) }));
    expect(result.status).toBe("fail");
    expect(result.found).toContain("does not answer (HTTP 403");
  });
});

describe("checkEvents", () => {
  it("passes a subscription whose system topic type ARM spells in lower case", async () => {
    const results = await checkEvents(BASE, sources({ systemTopics: async () => [{ ...topic, topicType: "microsoft.resources.subscriptions" }], eventSubscriptions: async () => [judge] }));
    expect(results.map((r) => r.status)).toEqual(["ok"]);
  });

  it("warns when undeliverable events would be dropped (no dead-letter destination)", async () => {
    const results = await checkEvents(BASE, sources({ systemTopics: async () => [topic], eventSubscriptions: async () => [{ ...judge, deadLetter: false }] }));
    expect(results.map(formatResult)).toEqual([`warn  events of ${SUB}: delivered to judgeGrantEvent, but without dead-lettering: an event that exhausts its retries is lost → run infra/scripts/subscribe-events.sh (azd postdeploy) for this subscription`]);
  });

  it("fails a subscription without an operation filter, or one that filters out deletes", async () => {
    const unfiltered = await checkEvents(BASE, sources({ systemTopics: async () => [topic], eventSubscriptions: async () => [{ ...judge, operationNames: null }] }));
    expect(unfiltered[0]?.found).toContain("no data.operationName filter");
    const writesOnly = await checkEvents(BASE, sources({ systemTopics: async () => [topic], eventSubscriptions: async () => [{ ...judge, operationNames: ["Microsoft.Authorization/roleAssignments/write"] }] }));
    expect(writesOnly[0]?.found).toContain("misses microsoft.authorization/roleassignments/delete");
  });

  it("fails a management-group-only watch: Event Grid sends these events per subscription", async () => {
    const results = await checkEvents({ ...BASE, scopes: ["/providers/Microsoft.Management/managementGroups/root"] }, sources({}));
    expect(results.map((r) => r.status)).toEqual(["fail"]);
  });
});

describe("checkSettings", () => {
  it("takes a Key Vault reference for a webhook URL without validating it, and refuses a plain one in an app's settings", () => {
    const reference = checkSettings({ ...BASE, source: "app", settings: { ...BASE.settings, GRANTGUARD_WEBHOOK_URL: "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/webhook-url/)", GRANTGUARD_WEBHOOK_SECRET: "@Microsoft.KeyVault(VaultName=kv;SecretName=webhook-secret)" } });
    expect(reference.find((r) => r.name === "settings")?.status).toBe("ok");
    expect(reference.find((r) => r.name === "secrets")?.status).toBe("ok");
    const plain = checkSettings({ ...BASE, source: "app", settings: { ...BASE.settings, GRANTGUARD_WEBHOOK_URL: "https://example.com/hook", GRANTGUARD_WEBHOOK_SECRET: "0123456789abcdef0123456789abcdef" } });
    expect(plain.find((r) => r.name === "secrets")?.found).toBe("a secret in plain text: GRANTGUARD_WEBHOOK_URL, GRANTGUARD_WEBHOOK_SECRET");
  });

  it("refuses a storage account key or SAS in any setting, whatever the source", () => {
    const results = checkSettings({ ...BASE, settings: { ...BASE.settings, AzureWebJobsStorage: "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=abc==" } });
    expect(results.find((r) => r.name === "secrets")?.found).toBe("a secret in plain text: AzureWebJobsStorage");
  });
});
