import { loadConfig } from "../../config.js";
import { statusOf } from "../../errors.js";
import type { Permission } from "../../model/azure.js";
import { allowsOperation } from "../../facts/privilege.js";

// The checks of `grantguard doctor`: each reads a deployment through a small interface (the real
// one in sources.ts, fakes in tests) and says one line — ok, warn or fail, what it found, and
// what to do. A check never throws: what it could not read is its finding.

/** How one check ended: ok, warn (works, with a caveat), fail (grantguard will not work as set up). */
export type CheckStatus = "ok" | "warn" | "fail";

/** One line of the report. */
export interface CheckResult {
  readonly status: CheckStatus;
  /** What was checked, e.g. "settings", "rights at /subscriptions/…". */
  readonly name: string;
  /** What was found. */
  readonly found: string;
  /** What to do about it (warn and fail). */
  readonly fix?: string;
}

/** A role assignment as the rights check needs it. */
export interface AssignmentView {
  readonly id: string;
  readonly scope: string;
  readonly roleDefinitionId: string;
  readonly condition: string | null;
}

/** A role definition as the rights check needs it. */
export interface RoleView {
  readonly roleName: string;
  readonly permissions: readonly Permission[];
}

/** An Event Grid system topic, as ARM lists it. */
export interface SystemTopicView {
  readonly id: string;
  readonly source: string;
  readonly topicType: string;
  readonly provisioningState: string;
}

/** An event subscription of a system topic, as ARM lists it. */
export interface EventSubscriptionView {
  readonly id: string;
  readonly provisioningState: string;
  readonly endpointType: string;
  /** The AzureFunction destination's function resource id; null for other endpoints. */
  readonly functionId: string | null;
  readonly maxEventsPerBatch: number | null;
  /** The values of a StringIn advanced filter on data.operationName; null without one. */
  readonly operationNames: readonly string[] | null;
  readonly includedEventTypes: readonly string[] | null;
  readonly deadLetter: boolean;
}

/** What doctor reads, through whichever Azure it was pointed at. */
export interface DoctorSources {
  /** The principal's role assignments that grant at the scope: at it or above it. */
  assignmentsOf(scope: string, principalId: string): Promise<readonly AssignmentView[]>;
  /** A role definition by its full id; null when ARM does not know it. */
  roleDefinition(id: string): Promise<RoleView | null>;
  /** A service principal's object id by its application (client) id; null when Graph does not know it. */
  servicePrincipalIdByAppId(appId: string): Promise<string | null>;
  /** The app roles granted to a service principal (Graph appRoleAssignments). */
  appRoleAssignments(servicePrincipalId: string): Promise<ReadonlyArray<{ readonly appRoleId: string; readonly resourceId: string }>>;
  /** The Event Grid system topics of a subscription. */
  systemTopics(subscriptionId: string): Promise<readonly SystemTopicView[]>;
  /** The event subscriptions of a system topic. */
  eventSubscriptions(systemTopicId: string): Promise<readonly EventSubscriptionView[]>;
  /** Runs `{table} | take 1`: resolves when the workspace answers; rejects with the service's error otherwise. */
  queryTable(workspaceId: string, table: string): Promise<void>;
  /** Signs a digest with the Key Vault key; rejects when it cannot. */
  sign(keyId: string): Promise<void>;
}

/** Where the settings were read, which decides what a deployed app must also have. */
export type SettingsSource = "app" | "file" | "environment" | "local";

/** What doctor checks. */
export interface DoctorInput {
  readonly settings: Readonly<Record<string, string | undefined>>;
  readonly source: SettingsSource;
  /** The function app's ARM id, when doctor reads a deployed app. */
  readonly appId: string | null;
  /** The scopes grantguard watches (subscriptions or management groups). */
  readonly scopes: readonly string[];
  /** The identity's object id when doctor can sign in as it (a local Azure's managed-identity endpoint). */
  readonly selfPrincipalId: string | null;
}

const MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/** Microsoft Graph application permissions (Microsoft Graph permissions reference): id → name. */
export const GRAPH_APP_ROLES = {
  "7ab1d382-f21e-4acd-a863-ba3e13f7da61": "Directory.Read.All",
  "df021288-bdef-4463-88db-98f22de89214": "User.Read.All",
  "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30": "Application.Read.All",
  "98830695-27a2-44f7-8c18-0c3ebc9698f6": "GroupMember.Read.All",
  "b0afded3-3588-46d8-8b3d-9842eff778da": "AuditLog.Read.All",
} as const;
const DIRECTORY_READ_ALL = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";
/** What grantguard reads in the directory: each need is met by its narrow permission or by Directory.Read.All. */
const GRAPH_NEEDS = [
  { name: "User.Read.All", id: "df021288-bdef-4463-88db-98f22de89214", why: "users and guests" },
  { name: "Application.Read.All", id: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", why: "service principals and their credentials" },
  { name: "GroupMember.Read.All", id: "98830695-27a2-44f7-8c18-0c3ebc9698f6", why: "groups" },
] as const;
const AUDIT_LOG_READ_ALL = "b0afded3-3588-46d8-8b3d-9842eff778da";

/** The operations the judge and the sweep perform at a watched scope. */
const READS = [
  "Microsoft.Authorization/roleAssignments/read",
  "Microsoft.Authorization/roleDefinitions/read",
  "Microsoft.Authorization/roleAssignmentScheduleInstances/read",
] as const;
const DELETE_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments/delete";

/** The Log Analytics tables the sweep queries (shared/azure/kql). */
export const WORKSPACE_TABLES = ["AzureActivity", "SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs", "AADManagedIdentitySignInLogs"] as const;

const WEBHOOK_SETTINGS = ["GRANTGUARD_TEAMS_WEBHOOK_URL", "GRANTGUARD_SLACK_WEBHOOK_URL", "GRANTGUARD_WEBHOOK_URL", "GRANTGUARD_WEBHOOK_SECRET"];
const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(.+\)$/;
// A storage account key or a SAS in any setting: a credential the identity makes unnecessary.
const STORAGE_SECRET = /AccountKey=|SharedAccessSignature=|[?&]sig=/i;

const reasonOf = (error: unknown) => {
  const status = statusOf(error);
  const text = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
  return status === null ? text : `HTTP ${status}: ${text}`;
};

/** Runs every check and returns one line each, in a fixed order. */
export async function runChecks(input: DoctorInput, sources: DoctorSources): Promise<CheckResult[]> {
  const results: CheckResult[] = [...checkSettings(input)];
  const mode = input.settings.GRANTGUARD_MODE === "enforce" ? "enforce" : "audit";
  const identity = await resolveIdentity(input, sources);
  results.push(identity.result);
  if (identity.principalId !== null) {
    if (input.scopes.length === 0) {
      results.push({ status: "fail", name: "rights", found: "no watched scope to check", fix: "name the scopes grantguard watches with --scope (a subscription or management group id), or --app to take the app's subscription" });
    }
    for (const scope of input.scopes) results.push(await checkRights(scope, identity.principalId, mode, sources));
    results.push(await checkGraph(identity.principalId, sources));
  }
  results.push(...(await checkEvents(input, sources)));
  results.push(await checkWorkspace(input, sources));
  results.push(...(await checkKeys(input, sources)));
  return results;
}

/** The settings themselves: valid for grantguard, no secret in plain text, identity-based host storage for a deployed app. */
export function checkSettings(input: DoctorInput): CheckResult[] {
  const { settings, source } = input;
  const results: CheckResult[] = [];
  // A Key Vault reference is resolved by the platform, not here: it is left out of the validation.
  const referenced = Object.entries(settings).filter(([, v]) => v !== undefined && KEY_VAULT_REFERENCE.test(v)).map(([k]) => k);
  const plain: Record<string, string | undefined> = Object.fromEntries(Object.entries(settings).filter(([k, v]) => !referenced.includes(k) && v !== undefined && v !== ""));
  try {
    loadConfig(plain);
    const count = Object.keys(plain).filter((k) => k.startsWith("GRANTGUARD_") || k === "AZURE_CLIENT_ID").length;
    results.push({ status: "ok", name: "settings", found: `${count} grantguard settings valid${referenced.length ? `, ${referenced.length} from Key Vault references` : ""} (from ${describeSource(source)})` });
  } catch (error) {
    results.push({ status: "fail", name: "settings", found: error instanceof Error ? error.message : String(error), fix: source === "app" ? "correct the app setting (azd env set … then azd provision, or the portal's Environment variables)" : "correct the setting" });
  }
  const secrets: string[] = [];
  if (source === "app") secrets.push(...WEBHOOK_SETTINGS.filter((k) => settings[k] !== undefined && settings[k] !== "" && !referenced.includes(k)));
  secrets.push(...Object.entries(settings).filter(([, v]) => v !== undefined && STORAGE_SECRET.test(v)).map(([k]) => k));
  if (settings.AzureWebJobsStorage) secrets.push("AzureWebJobsStorage");
  results.push(
    secrets.length
      ? { status: "fail", name: "secrets", found: `a secret in plain text: ${[...new Set(secrets)].join(", ")}`, fix: "keep webhook URLs and secrets in Key Vault and set @Microsoft.KeyVault(SecretUri=…) references; replace storage keys and connection strings with the identity (AzureWebJobsStorage__credential=managedidentity)" }
      : { status: "ok", name: "secrets", found: source === "app" ? "no key, connection string or plain webhook secret in the app settings" : "no storage key or connection string in the settings" },
  );
  if (source === "app") results.push(checkHostStorage(settings));
  return results;
}

function describeSource(source: SettingsSource): string {
  return { app: "the function app, through ARM", file: "the settings file", environment: "this environment", local: "the local Azure of npm start" }[source];
}

function checkHostStorage(settings: DoctorInput["settings"]): CheckResult {
  const clientId = settings.AZURE_CLIENT_ID;
  const problems: string[] = [];
  if (!clientId) problems.push("AZURE_CLIENT_ID is not set (grantguard would sign in as a system-assigned identity, which has none of the rights)");
  if (settings.AzureWebJobsStorage__credential !== "managedidentity") problems.push("AzureWebJobsStorage__credential is not managedidentity");
  if (clientId && settings.AzureWebJobsStorage__clientId?.toLowerCase() !== clientId.toLowerCase()) problems.push("AzureWebJobsStorage__clientId is not AZURE_CLIENT_ID");
  if (!Object.keys(settings).some((k) => /^AzureWebJobsStorage__(blobServiceUri|accountName)$/.test(k))) problems.push("no AzureWebJobsStorage__blobServiceUri");
  if (!/Authorization=AAD/i.test(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? "")) problems.push("APPLICATIONINSIGHTS_AUTHENTICATION_STRING does not say Authorization=AAD (telemetry would be refused with local auth off)");
  return problems.length
    ? { status: "fail", name: "host", found: problems.join("; "), fix: "set the identity-based host settings as infra/app/resources.bicep does (azd provision)" }
    : { status: "ok", name: "host", found: "identity-based host storage and Entra ID telemetry with the user-assigned identity" };
}

async function resolveIdentity(input: DoctorInput, sources: DoctorSources): Promise<{ principalId: string | null; result: CheckResult }> {
  const clientId = input.settings.AZURE_CLIENT_ID;
  if (clientId) {
    try {
      const id = await sources.servicePrincipalIdByAppId(clientId);
      if (id) return { principalId: id, result: { status: "ok", name: "identity", found: `client id ${clientId} is service principal ${id}` } };
      return { principalId: null, result: { status: "fail", name: "identity", found: `Microsoft Graph knows no service principal with client id ${clientId}`, fix: "set AZURE_CLIENT_ID to the client id of grantguard's user-assigned identity" } };
    } catch (error) {
      return { principalId: null, result: { status: "fail", name: "identity", found: `cannot look up client id ${clientId} in Microsoft Graph (${reasonOf(error)})`, fix: "run doctor as someone who may read service principals (Directory Readers)" } };
    }
  }
  if (input.selfPrincipalId) return { principalId: input.selfPrincipalId, result: { status: "ok", name: "identity", found: `the managed identity signs in as ${input.selfPrincipalId} (no AZURE_CLIENT_ID: its default identity)` } };
  return { principalId: null, result: { status: "fail", name: "identity", found: "AZURE_CLIENT_ID is not set: cannot tell which identity grantguard runs as", fix: "set AZURE_CLIENT_ID to the client id of grantguard's user-assigned identity" } };
}

const PATTERN_CACHE = new Map<string, RegExp>();
function matches(pattern: string, operation: string): boolean {
  let re = PATTERN_CACHE.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`, "i");
    PATTERN_CACHE.set(pattern, re);
  }
  return re.test(operation);
}

/** The actions of a role beyond reading (wildcards kept), after its notActions. */
function writeActions(permissions: readonly Permission[]): string[] {
  return permissions.flatMap((block) => block.actions.filter((action) => !/\/read$/i.test(action) && !block.notActions.some((n) => matches(n, action.replaceAll("*", "x")))));
}

/** The identity's rights at one watched scope: reads what it must, and writes no more than its mode needs. */
export async function checkRights(scope: string, principalId: string, mode: "audit" | "enforce", sources: DoctorSources): Promise<CheckResult> {
  const name = `rights at ${scope}`;
  let held: Array<{ assignment: AssignmentView; role: RoleView }>;
  try {
    const assignments = await sources.assignmentsOf(scope, principalId);
    const roles = new Map<string, RoleView | null>();
    for (const a of assignments) if (!roles.has(a.roleDefinitionId.toLowerCase())) roles.set(a.roleDefinitionId.toLowerCase(), await sources.roleDefinition(a.roleDefinitionId));
    held = assignments.flatMap((assignment) => {
      const role = roles.get(assignment.roleDefinitionId.toLowerCase());
      return role ? [{ assignment, role }] : [];
    });
  } catch (error) {
    return { status: "fail", name, found: `cannot list the identity's role assignments here (${reasonOf(error)})`, fix: "run doctor as someone who may read role assignments at this scope (Reader)" };
  }
  const missing = READS.filter((op) => !held.some(({ role }) => allowsOperation(role.permissions, op)));
  const deleters = held.filter(({ role }) => allowsOperation(role.permissions, DELETE_ASSIGNMENTS));
  const excess = held.flatMap(({ role, assignment }) =>
    writeActions(role.permissions)
      .filter((action) => !(mode === "enforce" && action.toLowerCase() === DELETE_ASSIGNMENTS.toLowerCase()))
      .map((action) => `${action} (${role.roleName}${assignment.condition ? ", with a condition" : ""})`),
  );
  const roles = [...new Set(held.map(({ role }) => role.roleName))].join(", ") || "no role";
  if (missing.length) return { status: "fail", name, found: `cannot ${missing.map((m) => m.replace("Microsoft.Authorization/", "")).join(", ")} (holds ${roles})`, fix: "assign grantguard's access reader role (infra/app/roles.bicep) to the identity here: azd provision with this scope watched" };
  if (mode === "audit" && deleters.length) return { status: "fail", name, found: `holds roleAssignments/delete in audit mode (${[...new Set(deleters.map((d) => d.role.roleName))].join(", ")})`, fix: "remove that assignment: audit mode never deletes" };
  if (excess.length) return { status: "fail", name, found: `can do more than ${mode} mode needs: ${excess.join("; ")}`, fix: "remove the role assignments that grant these: grantguard needs reads, and in enforce mode roleAssignments/delete only" };
  if (mode === "enforce" && deleters.length === 0) return { status: "fail", name, found: `enforce mode, but cannot delete role assignments here (holds ${roles})`, fix: "deploy with mode=enforce (azd env set GRANTGUARD_MODE enforce; azd provision): it adds the revoker role here" };
  if (mode === "enforce" && deleters.every((d) => !d.assignment.condition)) return { status: "warn", name, found: "can delete role assignments without a condition: it could revoke its own access", fix: "use infra/app/watch.bicep's assignment, whose condition spares grantguard's own assignments" };
  return { status: "ok", name, found: mode === "enforce" ? `reads role assignments, definitions and PIM; deletes role assignments only (${roles})` : `reads role assignments, definitions and PIM; writes nothing (${roles})` };
}

/** The identity's Microsoft Graph application permissions: directory reads (narrow or Directory.Read.All), sign-in activity, nothing unknown. */
export async function checkGraph(principalId: string, sources: DoctorSources): Promise<CheckResult> {
  const name = "graph permissions";
  let granted: string[];
  try {
    const graph = await sources.servicePrincipalIdByAppId(MICROSOFT_GRAPH_APP_ID);
    const all = await sources.appRoleAssignments(principalId);
    // Microsoft Graph's own service principal is the resource; a tenant without it can only be matched by role id.
    granted = all.filter((a) => graph === null || a.resourceId.toLowerCase() === graph.toLowerCase()).map((a) => a.appRoleId.toLowerCase());
  } catch (error) {
    return { status: "fail", name, found: `cannot read the identity's app role assignments (${reasonOf(error)})`, fix: "run doctor as someone who may read service principals (Directory Readers or Application.Read.All)" };
  }
  const directory = granted.includes(DIRECTORY_READ_ALL);
  const missing = GRAPH_NEEDS.filter((n) => !directory && !granted.includes(n.id));
  const unknown = granted.filter((id) => !(id in GRAPH_APP_ROLES));
  if (missing.length)
    return { status: "fail", name, found: `lacks ${missing.map((m) => `${m.name} (${m.why})`).join(", ")}`, fix: "run infra/scripts/graph-permissions.sh as a Privileged Role Administrator (admin consent)" };
  if (unknown.length) return { status: "warn", name, found: `holds Graph permissions grantguard does not use: ${unknown.join(", ")}`, fix: "remove them from the identity (Enterprise applications → Permissions)" };
  if (!granted.includes(AUDIT_LOG_READ_ALL)) return { status: "warn", name, found: "lacks AuditLog.Read.All: sign-in activity stays unknown", fix: "run infra/scripts/graph-permissions.sh as a Privileged Role Administrator" };
  const names = [...new Set(granted.map((id) => GRAPH_APP_ROLES[id as keyof typeof GRAPH_APP_ROLES]))].join(", ");
  return { status: directory ? "warn" : "ok", name, found: directory ? `${names}: Directory.Read.All is broader than needed` : names, ...(directory ? { fix: "prefer User.Read.All, Application.Read.All and GroupMember.Read.All" } : {}) };
}

/** For each watched subscription: a system topic on it, provisioned, subscribed to judgeGrantEvent as infra/events.bicep does. */
export async function checkEvents(input: DoctorInput, sources: DoctorSources): Promise<CheckResult[]> {
  if (input.appId === null) {
    return [{ status: "warn", name: "events", found: "not checked: no function app (--app); a local Azure delivers events through the dev host", fix: "check a deployment with --app <function app resource id>" }];
  }
  const functionId = `${input.appId}/functions/judgeGrantEvent`.toLowerCase();
  const subscriptions = input.scopes.map((s) => /^\/subscriptions\/([^/]+)$/i.exec(s.replace(/\/+$/, ""))?.[1]).filter((s): s is string => s !== undefined);
  if (subscriptions.length === 0) return [{ status: "fail", name: "events", found: "no watched subscription", fix: "name one with --scope /subscriptions/{id}: Event Grid sends role-assignment events per subscription only" }];
  const results: CheckResult[] = [];
  for (const subscriptionId of subscriptions) {
    const name = `events of /subscriptions/${subscriptionId}`;
    const fix = "run infra/scripts/subscribe-events.sh (azd postdeploy) for this subscription";
    try {
      const topic = (await sources.systemTopics(subscriptionId)).find((t) => t.source.toLowerCase() === `/subscriptions/${subscriptionId}`.toLowerCase() && t.topicType.toLowerCase() === "microsoft.resources.subscriptions");
      if (!topic) {
        results.push({ status: "fail", name, found: "no Event Grid system topic on this subscription", fix });
        continue;
      }
      if (topic.provisioningState !== "Succeeded") {
        results.push({ status: "fail", name, found: `system topic ${topic.id} is ${topic.provisioningState}`, fix });
        continue;
      }
      const subscription = (await sources.eventSubscriptions(topic.id)).find((s) => s.functionId?.toLowerCase() === functionId);
      if (!subscription) {
        results.push({ status: "fail", name, found: `no event subscription of ${topic.id} delivers to judgeGrantEvent of ${input.appId}`, fix });
        continue;
      }
      const problems: string[] = [];
      if (subscription.provisioningState !== "Succeeded") problems.push(`it is ${subscription.provisioningState}`);
      if (subscription.maxEventsPerBatch !== null && subscription.maxEventsPerBatch !== 1) problems.push(`maxEventsPerBatch is ${subscription.maxEventsPerBatch}, not 1 (a failed judgement would redeliver its whole batch)`);
      const ops = (subscription.operationNames ?? []).map((o) => o.toLowerCase());
      const wanted = ["microsoft.authorization/roleassignments/write", "microsoft.authorization/roleassignments/delete"];
      if (subscription.operationNames === null) problems.push("no data.operationName filter: every resource write of the subscription invokes the function");
      else if (!wanted.every((w) => ops.includes(w))) problems.push(`the data.operationName filter misses ${wanted.filter((w) => !ops.includes(w)).join(" and ")}`);
      if (problems.length) {
        results.push({ status: "fail", name, found: `${subscription.id}: ${problems.join("; ")}`, fix });
        continue;
      }
      results.push(
        subscription.deadLetter
          ? { status: "ok", name, found: `delivered to judgeGrantEvent, one at a time, with dead letters (${subscription.id})` }
          : { status: "warn", name, found: `delivered to judgeGrantEvent, but without dead-lettering: an event that exhausts its retries is lost`, fix },
      );
    } catch (error) {
      results.push({ status: "fail", name, found: `cannot read Event Grid here (${reasonOf(error)})`, fix: "run doctor as someone who may read Event Grid system topics (Reader)" });
    }
  }
  return results;
}

/** The Log Analytics workspace answers, and holds the tables the sweep reads. */
export async function checkWorkspace(input: DoctorInput, sources: DoctorSources): Promise<CheckResult> {
  const workspaceId = input.settings.GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID;
  if (!workspaceId) {
    // npm start's file names the endpoints the command line needs, not the workspace: say so rather than blame the setup.
    if (input.source === "local") return { status: "warn", name: "workspace", found: "not checked: the local Azure's file does not name its workspace (the sweep of npm start reads it directly)", fix: "check a deployment with --app" };
    return { status: "warn", name: "workspace", found: "GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID is not set: sign-ins and activity stay unknown to the sweep", fix: "set it to the workspace id (a GUID) that receives SigninLogs and AzureActivity" };
  }
  const absent: string[] = [];
  for (const table of WORKSPACE_TABLES) {
    try {
      await sources.queryTable(workspaceId, table);
    } catch (error) {
      // A 400 is the query's own failure: the table does not exist in this workspace.
      if (statusOf(error) === 400) absent.push(table);
      else return { status: "fail", name: "workspace", found: `workspace ${workspaceId} does not answer (${reasonOf(error)})`, fix: "check the workspace id and give the identity (and you) Log Analytics Reader on it" };
    }
  }
  return absent.length
    ? { status: "warn", name: "workspace", found: `workspace ${workspaceId} answers but has no ${absent.join(", ")}`, fix: "route Entra ID sign-in logs and the activity log to it (diagnostic settings)" }
    : { status: "ok", name: "workspace", found: `workspace ${workspaceId} answers, with ${WORKSPACE_TABLES.join(", ")}` };
}

/** The audit trail's signing key (GRANTGUARD_KEY_VAULT_URL + GRANTGUARD_AUDIT_KEY) signs; a warning when no vault is set (digests are then never signed). */
export async function checkKeys(input: DoctorInput, sources: DoctorSources): Promise<CheckResult[]> {
  const vault = input.settings.GRANTGUARD_KEY_VAULT_URL;
  if (!vault) return [{ status: "warn", name: "signing key", found: "GRANTGUARD_KEY_VAULT_URL is not set: the audit trail is hash-chained but its digests are never signed", fix: "set GRANTGUARD_KEY_VAULT_URL (and GRANTGUARD_AUDIT_KEY) to an RSA key the identity may sign with (Key Vault Crypto User)" }];
  const keyId = `${vault.replace(/\/+$/, "")}/keys/${input.settings.GRANTGUARD_AUDIT_KEY || "grantguard-audit"}`;
  try {
    await sources.sign(keyId);
    return [{ status: "ok", name: "signing key", found: `${keyId} signs` }];
  } catch (error) {
    return [{ status: "fail", name: "signing key", found: `${keyId} does not sign (${reasonOf(error)})`, fix: "give the identity Key Vault Crypto User on the key, and check that the key exists and allows sign" }];
  }
}

/** One line of the report, e.g. "fail  rights at /subscriptions/…: cannot … → assign …". */
export function formatResult(result: CheckResult): string {
  return `${result.status.padEnd(4)}  ${result.name}: ${result.found}${result.fix && result.status !== "ok" ? ` → ${result.fix}` : ""}`;
}
