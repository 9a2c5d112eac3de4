import { readFile } from "node:fs/promises";
import { ConfigError } from "../../errors.js";
import { parse, stringOption } from "../args.js";
import { RelaunchNeeded, UsageError } from "../errors.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";
import type { DoctorInput, SettingsSource } from "../doctor/checks.js";

const usage = `Usage: grantguard doctor [--app RESOURCE_ID | --settings FILE] [--scope SCOPE …]

Checks a grantguard deployment from outside, through the real Azure APIs, and prints one line
per check — ok, warn or fail, what it found, and what to do:
  settings     every setting valid (Key Vault references are left to the platform)
  secrets      no storage key, connection string or plain webhook secret
  host         identity-based host storage and Entra ID telemetry (with --app)
  identity     which service principal grantguard runs as (AZURE_CLIENT_ID)
  rights       at each watched scope: reads role assignments, definitions and PIM; deletes
               role assignments only in enforce mode; nothing more
  graph        Microsoft Graph application permissions of the identity
  events       a system topic on each watched subscription, subscribed to judgeGrantEvent
               one event at a time, filtered to role-assignment writes and deletes (with --app)
  workspace    the Log Analytics workspace answers and holds the tables the sweep reads
  key          every Key Vault key a setting names (…_KEY_ID) signs

Where the settings come from:
  --app RESOURCE_ID  the function app's own settings, read through ARM (Microsoft.Web
                     sites/config/appsettings/list; needs Website Contributor or Reader plus
                     that action); its subscription is watched unless --scope says otherwise
  --settings FILE    a JSON file: local.settings.json ({"Values": {…}}) or a flat object
  (neither)          this environment when GRANTGUARD_TABLE_ENDPOINT is set, else the local
                     Azure of a running npm start

  --scope SCOPE      a watched subscription (/subscriptions/{id}) or management group; repeat

Signs in with your Azure credentials (az login…), or as the local Azure's user. Doctor reaches
ARM, Graph and Log Analytics at GRANTGUARD_*_ENDPOINT from this environment, else the app's.
Exit codes: 0 every check ok or warn; 1 a check failed; 3 the settings could not be read.`;

/** grantguard doctor: is this deployment set up to work, with no right or secret it does not need? */
export const doctor: Verb = {
  usage,

  async run(argv, context) {
    const { io } = context;
    const { values } = parse(argv, { app: { type: "string" }, settings: { type: "string" }, scope: { type: "string", multiple: true } });
    if (values.help) return io.out(usage), EXIT.ok;
    const app = stringOption(values.app);
    const file = stringOption(values.settings);
    if (app !== undefined && file !== undefined) throw new UsageError("give --app or --settings, not both");
    if (app !== undefined && !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Web\/sites\/[^/]+$/i.test(app)) throw new UsageError("--app takes the function app's resource id: /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Web/sites/{name}");
    const scopes = (Array.isArray(values.scope) ? values.scope : []).filter((s): s is string => typeof s === "string");
    if (scopes.some((s) => !s.startsWith("/"))) throw new UsageError("--scope takes a resource id starting with / (e.g. /subscriptions/{id})");

    const [{ operatorCredential, localOperatorCredential }, { readLiveLocalAzure, displayPath }, { principalIdOf }, { ManagedIdentityCredential }, { runChecks, formatResult }, { createDoctorSources, readAppSettings }] = await Promise.all([
      import("../azure.js"),
      import("../local.js"),
      import("../../azure/credential.js"),
      import("@azure/identity"),
      import("../doctor/checks.js"),
      import("../doctor/sources.js"),
    ]);
    const env = process.env;
    let source: SettingsSource;
    let settings: Record<string, string | undefined>;
    let credential;
    let selfPrincipalId: string | null = null;
    // Where doctor itself reaches ARM: this environment's, a running local Azure's, or public Azure.
    let armEndpoint = env.GRANTGUARD_ARM_ENDPOINT;
    const local = app === undefined && file === undefined && env.GRANTGUARD_TABLE_ENDPOINT === undefined ? await readLiveLocalAzure(env) : null;
    if (local) {
      if (env.NODE_EXTRA_CA_CERTS !== local.caBundle) throw new RelaunchNeeded("this process does not trust the local Azure's certificate", { NODE_EXTRA_CA_CERTS: local.caBundle });
      io.err(`grantguard: checking the local Azure of npm start (pid ${local.pid}, ${displayPath(local.file)})`);
      source = "local";
      settings = { ...local.settings };
      credential = localOperatorCredential(local);
      armEndpoint ??= local.settings.GRANTGUARD_ARM_ENDPOINT;
      // The local managed-identity endpoint signs in as grantguard's identity: its object id is the token's.
      selfPrincipalId = await principalIdOf(new ManagedIdentityCredential());
    } else {
      credential = operatorCredential();
      armEndpoint ??= "https://management.azure.com";
      if (app !== undefined) {
        source = "app";
        context.azure.push({ name: "Azure Resource Manager", endpoint: armEndpoint, needs: "Microsoft.Web/sites/config/list/action on the function app (Website Contributor)" });
        settings = await readAppSettings(credential, armEndpoint, app);
      } else if (file !== undefined) {
        source = "file";
        settings = await readSettingsFile(file);
      } else if (env.GRANTGUARD_TABLE_ENDPOINT !== undefined) {
        source = "environment";
        settings = { ...env };
        if (env.IDENTITY_ENDPOINT) selfPrincipalId = await principalIdOf(new ManagedIdentityCredential()).catch(() => null);
      } else {
        throw new ConfigError("nothing to check: give --app (a deployed function app) or --settings FILE, set GRANTGUARD_TABLE_ENDPOINT, or start the local Azure with npm start");
      }
    }
    const pick = (name: string, fallback: string) => env[name] ?? settings[name] ?? fallback;
    const input: DoctorInput = {
      settings,
      source,
      appId: app ?? null,
      scopes: scopes.length ? scopes : app !== undefined ? [app.split("/").slice(0, 3).join("/")] : [],
      selfPrincipalId,
    };
    const sources = createDoctorSources(credential, {
      arm: armEndpoint,
      graph: pick("GRANTGUARD_GRAPH_ENDPOINT", "https://graph.microsoft.com"),
      logAnalytics: pick("GRANTGUARD_LOG_ANALYTICS_ENDPOINT", "https://api.loganalytics.io/v1"),
    });
    const results = await runChecks(input, sources);
    for (const result of results) io.out(formatResult(result));
    const failed = results.filter((r) => r.status === "fail").length;
    const warned = results.filter((r) => r.status === "warn").length;
    io.err(failed ? `grantguard doctor: ${failed} check(s) failed, ${warned} warning(s)` : `grantguard doctor: all ${results.length} checks passed${warned ? `, ${warned} with a warning` : ""}`);
    return failed ? EXIT.findings : EXIT.ok;
  },
};

/** Settings from a JSON file: local.settings.json's {"Values": {…}} or a flat object of strings. */
async function readSettingsFile(file: string): Promise<Record<string, string>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`cannot read settings file ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const root = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  const values = root && typeof root.Values === "object" && root.Values !== null ? (root.Values as Record<string, unknown>) : root;
  if (!values) throw new ConfigError(`settings file ${file} must be a JSON object of settings, or local.settings.json with "Values"`);
  const bad = Object.entries(values).filter(([, v]) => typeof v !== "string").map(([k]) => k);
  if (bad.length) throw new ConfigError(`settings file ${file}: every setting must be a string (${bad.join(", ")})`);
  return values as Record<string, string>;
}
