import { access, constants, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { functionRegistrations } from "../../../functions/index.js";

// No Bicep compiler can run here, so the deployment is checked for what can be checked from its
// text: every setting the code reads is set, every role is the documented built-in (or one of
// grantguard's two custom roles), no key or connection string anywhere, the parameters file fits
// the template, module calls fit the modules, and the events reach judgeGrantEvent one at a time.

const root = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFile(join(root, path), "utf8");

async function bicepFiles(dir = "infra"): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? bicepFiles(join(dir, e.name)) : Promise.resolve(e.name.endsWith(".bicep") ? [join(dir, e.name)] : []))));
  return nested.flat();
}

const files = await bicepFiles();
const sources = new Map(await Promise.all(files.map(async (f) => [f, await read(f)] as const)));
const allBicep = [...sources.values()].join("\n");
const resources = await read("infra/app/resources.bicep");

/** The keys of the object literal assigned to `var name = {` (one level deep). */
function objectKeys(text: string, name: string): string[] {
  const start = text.indexOf(`var ${name} = {`);
  if (start < 0) return [];
  const body = blockAfter(text, text.indexOf("{", start));
  return [...body.matchAll(/^ {2}([A-Za-z_][A-Za-z0-9_]*)\s*:/gm)].map((m) => m[1]!);
}

/** The text between the brace at `open` and its match. */
function blockAfter(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`unbalanced braces after offset ${open}`);
}

/** The parameters a Bicep file declares: name → has a default. */
function paramsOf(text: string): Map<string, boolean> {
  return new Map([...text.matchAll(/^param\s+(\w+)\s+[\w.]+(\s*=)?/gm)].map((m) => [m[1]!, m[2] !== undefined]));
}

/** The settings grantguard reads: the keys of shared/config.ts's settings schema. */
async function settingsTheCodeReads(): Promise<string[]> {
  const config = await read("shared/config.ts");
  const start = config.indexOf("const settingsSchema = z.object({");
  expect(start, "shared/config.ts declares its settings in `const settingsSchema = z.object({`").toBeGreaterThan(0);
  const body = blockAfter(config, config.indexOf("{", start));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*)\s*:/gm)].map((m) => m[1]!);
}

// Built-in role definition GUIDs, as Microsoft Learn's "Azure built-in roles" lists them.
const BUILT_IN_ROLES: Record<string, string> = {
  "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "76199698-9eea-4c19-bc75-cec21354c6b6": "Storage Table Data Reader",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "73c42c96-874c-492b-b04d-ab87d138a893": "Log Analytics Reader",
  "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
  "12338af0-0e69-4776-bea7-57ae8d297424": "Key Vault Crypto User",
};
// Roles that would give grantguard more than it needs: never in its deployment.
const FORBIDDEN_ROLES: Record<string, string> = {
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
  "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
  "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
};
// The role variable names in resources.bicep, and the built-in role each must be.
const ROLE_VARIABLES: Record<string, string> = {
  storageBlobDataOwner: "Storage Blob Data Owner",
  storageBlobDataContributor: "Storage Blob Data Contributor",
  storageQueueDataContributor: "Storage Queue Data Contributor",
  storageTableDataContributor: "Storage Table Data Contributor",
  storageTableDataReader: "Storage Table Data Reader",
  monitoringMetricsPublisher: "Monitoring Metrics Publisher",
  logAnalyticsReader: "Log Analytics Reader",
  keyVaultSecretsUser: "Key Vault Secrets User",
  keyVaultCryptoUser: "Key Vault Crypto User",
};

// Resource types and the API versions used, each a published stable version (azure-rest-api-specs
// `specification/{service}/resource-manager/{namespace}/stable/{version}`).
const API_VERSIONS: Record<string, string> = {
  "Microsoft.Resources/resourceGroups": "2024-03-01",
  "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
  "Microsoft.Storage/storageAccounts": "2023-05-01",
  "Microsoft.OperationalInsights/workspaces": "2023-09-01",
  "Microsoft.Insights/components": "2020-02-02",
  "Microsoft.KeyVault/vaults": "2023-07-01",
  "Microsoft.KeyVault/vaults/keys": "2023-07-01",
  "Microsoft.KeyVault/vaults/secrets": "2023-07-01",
  "Microsoft.Web/serverfarms": "2024-04-01",
  "Microsoft.Web/sites": "2024-04-01",
  "Microsoft.Authorization/roleAssignments": "2022-04-01",
  "Microsoft.Authorization/roleDefinitions": "2022-04-01",
  "Microsoft.EventGrid/systemTopics": "2025-02-15",
  "Microsoft.EventGrid/systemTopics/eventSubscriptions": "2025-02-15",
};

describe("infra: settings", () => {
  it("sets every setting shared/config.ts reads, as an app setting of the function app", async () => {
    const wanted = await settingsTheCodeReads();
    expect(wanted.length).toBeGreaterThan(10);
    const set = new Set([...objectKeys(resources, "grantguardSettings"), ...objectKeys(resources, "hostSettings")]);
    expect(wanted.filter((s) => !set.has(s))).toEqual([]);
  });

  it("sets every %SETTING% and identity-based connection a function binding names", async () => {
    // The registrations themselves (importing them has no side effect), not their source text.
    const { functionRegistrations } = await import("../../../functions/index.js");
    const set = new Set([...objectKeys(resources, "grantguardSettings"), ...objectKeys(resources, "hostSettings")]);
    const values = functionRegistrations.flatMap((r) => Object.values(r).filter((v): v is string => typeof v === "string"));
    const referenced = values.flatMap((v) => [...v.matchAll(/%([A-Za-z0-9_]+)%/g)].map((m) => m[1]!));
    expect(referenced).toContain("GRANTGUARD_SWEEP_SCHEDULE");
    for (const name of referenced) expect(set, `%${name}%`).toContain(name);
    // An identity-based connection is a set of settings sharing the connection's name as prefix.
    const connections = functionRegistrations.flatMap((r) => ("connection" in r && typeof r.connection === "string" ? [r.connection] : []));
    expect(connections.length).toBeGreaterThan(0);
    for (const name of connections) {
      expect([...set].filter((s) => s.startsWith(`${name}__`)), `connection ${name}`).toEqual(expect.arrayContaining([`${name}__credential`, `${name}__clientId`, `${name}__queueServiceUri`]));
    }
  });

  it("uses identity-based host storage and holds no key, connection string or plain secret", () => {
    expect(resources).toMatch(/AzureWebJobsStorage__credential:\s*'managedidentity'/);
    expect(resources).toMatch(/AzureWebJobsStorage__clientId:\s*identity\.properties\.clientId/);
    expect(resources).toMatch(/AzureWebJobsStorage__blobServiceUri:/);
    expect(resources).toMatch(/allowSharedKeyAccess:\s*false/);
    expect(resources).toMatch(/DisableLocalAuth:\s*true/);
    expect(resources).toMatch(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING:\s*'ClientId=\$\{identity\.properties\.clientId\};Authorization=AAD'/);
    expect(allBicep).not.toMatch(/listKeys\(|listAccountSas|listServiceSas|AccountKey=|SharedAccessSignature|primaryKey|\bAzureWebJobsStorage:/);
    // The webhook settings are Key Vault references, never the secret values.
    for (const name of ["GRANTGUARD_TEAMS_WEBHOOK_URL", "GRANTGUARD_SLACK_WEBHOOK_URL", "GRANTGUARD_WEBHOOK_URL", "GRANTGUARD_WEBHOOK_SECRET"]) {
      expect(resources).toMatch(new RegExp(`${name}: empty\\(\\w+\\) \\? '' : '\\$\\{kvRef\\}[a-z-]+\\)'`));
    }
    expect(resources).toMatch(/var kvRef = '@Microsoft\.KeyVault\(VaultName=\$\{vault\.name\};SecretName='/);
    for (const param of ["teamsWebhookUrl", "slackWebhookUrl", "webhookUrl", "webhookSecret"]) expect(resources).toMatch(new RegExp(`@secure\\(\\)\\nparam ${param} string`));
  });
});

describe("infra: rights", () => {
  it("names every role assignment with guid(), so a redeployment updates instead of duplicating", () => {
    for (const [file, text] of sources) {
      for (const m of text.matchAll(/'Microsoft\.Authorization\/roleAssignments@[^']+'\s*=\s*(?:if\s*\([^)]*\)\s*)?\{/g)) {
        const body = blockAfter(text, m.index! + m[0].length - 1);
        expect(body, `${file}: ${body.slice(0, 80)}`).toMatch(/^\s*name:\s*guid\(/);
      }
    }
  });

  it("uses each built-in role by its documented GUID and never a broad administrator role", () => {
    const guids = [...allBicep.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g)].map((m) => m[1]!);
    expect(guids.length).toBeGreaterThan(5);
    for (const guid of guids) {
      expect(FORBIDDEN_ROLES[guid], guid).toBeUndefined();
      expect(BUILT_IN_ROLES[guid], `${guid} is not a documented built-in role grantguard uses`).toBeDefined();
    }
    const roleVars = blockAfter(resources, resources.indexOf("{", resources.indexOf("var roles = {")));
    for (const [, name, guid] of roleVars.matchAll(/(\w+):\s*'([0-9a-f-]{36})'/g)) expect(BUILT_IN_ROLES[guid!], name).toBe(ROLE_VARIABLES[name!]);
  });

  it("grants the delete right on role assignments only in enforce mode, with a condition that spares grantguard's own", async () => {
    const roles = await read("infra/app/roles.bicep");
    const watch = await read("infra/app/watch.bicep");
    // The only place a delete action appears is the revoker role, made only when enforcing.
    const deletes = [...allBicep.matchAll(/'Microsoft\.Authorization\/roleAssignments\/delete'\]/g)];
    expect(deletes).toHaveLength(1);
    expect(roles).toMatch(/resource revoker 'Microsoft\.Authorization\/roleDefinitions@2022-04-01' = if \(enforce\) \{/);
    const revoker = blockAfter(roles, roles.indexOf("{", roles.indexOf("resource revoker")));
    expect(revoker).toMatch(/actions: \['Microsoft\.Authorization\/roleAssignments\/delete'\]/);
    expect(revoker).not.toMatch(/\/write|\*/);
    const reader = blockAfter(roles, roles.indexOf("{", roles.indexOf("resource reader")));
    for (const [, action] of reader.matchAll(/'(Microsoft\.[^']+)'/g)) expect(action).toMatch(/\/read$/);
    expect(watch).toMatch(/resource revoke 'Microsoft\.Authorization\/roleAssignments@2022-04-01' = if \(enforce\) \{/);
    const revoke = blockAfter(watch, watch.indexOf("{", watch.indexOf("resource revoke ")));
    expect(revoke).toContain("conditionVersion: '2.0'");
    expect(revoke).toContain("!(ActionMatches{\\'Microsoft.Authorization/roleAssignments/delete\\'})");
    expect(revoke).toContain("@Resource[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidNotEquals {${principalId}}");
    expect(await read("infra/main.bicep")).toMatch(/enforce: mode == 'enforce'/);
  });
});

describe("infra: template structure", () => {
  it("declares every parameter the parameters file gives, and the file gives every required one", async () => {
    const main = paramsOf(await read("infra/main.bicep"));
    const file = JSON.parse(await read("infra/main.parameters.json")) as { parameters: Record<string, unknown> };
    const given = Object.keys(file.parameters);
    expect(given.filter((p) => !main.has(p))).toEqual([]);
    expect([...main].filter(([p, hasDefault]) => !hasDefault && !given.includes(p)).map(([p]) => p)).toEqual([]);
  });

  it("calls every module with parameters it declares, including all it requires", async () => {
    for (const [file, text] of sources) {
      for (const m of text.matchAll(/^module\s+\w+\s+'([^']+)'\s*=\s*(?:\[\s*for [^:]+:\s*)?(?:if\s*\([^)]*\)\s*)?\{/gm)) {
        const modulePath = join(file, "..", m[1]!);
        const declared = paramsOf(await read(modulePath));
        const body = blockAfter(text, m.index! + m[0].length - 1);
        const paramsAt = body.indexOf("params: {");
        const passed = paramsAt < 0 ? [] : [...blockAfter(body, body.indexOf("{", paramsAt)).matchAll(/^\s{4,6}(\w+):/gm)].map((p) => p[1]!);
        expect(passed.filter((p) => !declared.has(p)), `${file} → ${m[1]}: unknown parameters`).toEqual([]);
        expect([...declared].filter(([p, hasDefault]) => !hasDefault && !passed.includes(p)).map(([p]) => p), `${file} → ${m[1]}: missing parameters`).toEqual([]);
      }
    }
  });

  it("uses a published stable API version for every resource type", () => {
    for (const [, type, version] of allBicep.matchAll(/'([A-Za-z.]+\/[A-Za-z/]+)@([0-9a-z-]+)'/g)) {
      expect(API_VERSIONS[type!], `${type}@${version}`).toBe(version);
    }
  });

  it("runs the function app on Flex Consumption with Node and deploys from a blob container with the identity", () => {
    expect(resources).toMatch(/sku: \{ name: 'FC1', tier: 'FlexConsumption' \}/);
    expect(resources).toMatch(/runtime: \{ name: 'node', version: '(20|22)' \}/);
    expect(resources).toMatch(/type: 'UserAssignedIdentity'\s+userAssignedIdentityResourceId: identity\.id/);
    expect(resources).toMatch(/keyVaultReferenceIdentity: identity\.id/);
  });
});

describe("infra: events", () => {
  it("delivers role-assignment writes and deletes to judgeGrantEvent one event at a time, with retries and dead letters by identity", async () => {
    const events = await read("infra/app/event-subscription.bicep");
    const judge = functionRegistrations.find((f) => f.trigger === "eventGrid");
    expect(judge?.name).toBe("judgeGrantEvent");
    expect(events).toMatch(/topicType: 'Microsoft\.Resources\.Subscriptions'/);
    expect(events).toMatch(/location: 'global'/);
    expect(events).toMatch(/endpointType: 'AzureFunction'/);
    expect(events).toContain(`resourceId: '\${functionAppId}/functions/${judge!.name}'`);
    expect(events).toMatch(/maxEventsPerBatch: 1\n/);
    expect(events).toMatch(/operatorType: 'StringIn'\s+key: 'data\.operationName'\s+values: \[\s+'Microsoft\.Authorization\/roleAssignments\/write'\s+'Microsoft\.Authorization\/roleAssignments\/delete'\s+\]/);
    expect(events).toMatch(/retryPolicy: \{\s+maxDeliveryAttempts: \d+/);
    expect(events).toMatch(/deadLetterWithResourceIdentity: \{\s+identity: \{\s+type: 'UserAssigned'/);
  });

  it("subscribes after the code is deployed, and runs the directory steps Bicep cannot make, from azure.yaml hooks whose scripts exist", async () => {
    const azure = parseYaml(await read("azure.yaml")) as { services: Record<string, { host: string; language: string }>; hooks: Record<string, { posix: { run: string } }> };
    expect(Object.values(azure.services)).toEqual([expect.objectContaining({ host: "function", language: "ts" })]);
    expect(Object.keys(azure.hooks).sort()).toEqual(["postdeploy", "postprovision", "preprovision"]);
    for (const hook of Object.values(azure.hooks)) await access(join(root, hook.posix.run), constants.X_OK);
    expect(await read(azure.hooks.postdeploy!.posix.run)).toContain("infra/events.bicep");
    expect(await read(azure.hooks.postprovision!.posix.run)).toContain("appRoleAssignedTo");
  });
});

describe("CI workflow", () => {
  it("deploys with an OIDC token and no stored secret, after the tests pass, and checks the deployment with doctor", async () => {
    const text = await read(".github/workflows/deploy.yml");
    const workflow = parseYaml(text) as { jobs: Record<string, { needs?: string; permissions?: Record<string, string>; steps: Array<{ run?: string }> }> };
    expect(text).not.toMatch(/secrets\./);
    expect(workflow.jobs.deploy?.needs).toBe("test");
    expect(workflow.jobs.deploy?.permissions?.["id-token"]).toBe("write");
    const runs = (job: string) => workflow.jobs[job]!.steps.map((s) => s.run ?? "").join("\n");
    expect(runs("test")).toContain("npm test");
    expect(runs("deploy")).toMatch(/azd auth login .*--federated-credential-provider github/);
    expect(runs("deploy")).toContain("azd up --no-prompt");
    expect(runs("deploy")).toContain("grantguard doctor --app");
  });
});
