import type { Config } from "../shared/config.js";
import { parseScope, type ScopeLevel } from "../shared/facts/scope.js";
import { rolePrivilege } from "../shared/facts/privilege.js";
import { roleDefinitionFromArm, roleDefinitionGuid } from "../shared/model/access.js";
import type { TenantSnapshot } from "../shared/model/snapshot.js";
import { displayPath, removeLocalAzure, writeLocalAzure } from "../shared/cli/local.js";
import type { LocalAzure } from "./localAzure.js";
import type { LocalTls } from "./tls.js";

// While `npm start` runs, the command line's response verbs (revocations, alerts, restore, rearm)
// reach its local Azure with no settings: this writes what they need to .grantguard/local.json.

const BREADTH: readonly ScopeLevel[] = ["root", "managementGroup", "subscription", "resourceGroup", "resource"];

/**
 * The person the command line acts as: an enabled member user who may write role assignments
 * (Owner, User Access Administrator…), at the broadest scope the tenant grants that; null when
 * the tenant has none. Restore then runs with a security admin's own rights, as it would in Azure.
 */
export function securityAdminOf(snapshot: TenantSnapshot): { readonly id: string; readonly userPrincipalName: string } | null {
  const delegating = new Set(snapshot.roleDefinitions.filter((d) => rolePrivilege(roleDefinitionFromArm(d).permissions).canWriteRoleAssignments).map((d) => d.name.toLowerCase()));
  const users = new Map(
    snapshot.principals.flatMap((p) => (p["@odata.type"] === "#microsoft.graph.user" && p.userType !== "Guest" && p.accountEnabled !== false && p.userPrincipalName ? [[p.id.toLowerCase(), p.userPrincipalName] as const] : [])),
  );
  const candidates = snapshot.roleAssignments.flatMap((a) => {
    const upn = users.get(a.properties.principalId.toLowerCase());
    if (!upn || !delegating.has(roleDefinitionGuid(a.properties.roleDefinitionId)) || a.properties.condition) return [];
    return [{ id: a.properties.principalId, userPrincipalName: upn, breadth: BREADTH.indexOf(parseScope(a.properties.scope).level) }];
  });
  candidates.sort((x, y) => x.breadth - y.breadth || x.userPrincipalName.localeCompare(y.userPrincipalName));
  const [admin] = candidates;
  return admin ? { id: admin.id, userPrincipalName: admin.userPrincipalName } : null;
}

/**
 * Writes .grantguard/local.json for the command line (removed again by `remove`), and returns
 * the lines to print: how to use it, as whom. Nothing is written when the tenant has no user
 * who could restore an assignment.
 */
export async function shareWithCommandLine(local: LocalAzure, tls: LocalTls, config: Config, snapshot: TenantSnapshot): Promise<{ readonly lines: readonly string[]; remove(): Promise<void> }> {
  const header = local.settings.IDENTITY_HEADER;
  if (header === undefined) throw new TypeError("the local Azure has no managed-identity header");
  const admin = securityAdminOf(snapshot);
  if (!admin) return { lines: ["grantguard: this tenant has no enabled member user who may write role assignments, so the command line cannot act in it."], remove: async () => undefined };
  const file = await writeLocalAzure({
    version: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    caBundle: tls.bundleFile,
    settings: {
      GRANTGUARD_TABLE_ENDPOINT: config.tableEndpoint,
      GRANTGUARD_ARM_ENDPOINT: config.armEndpoint,
      GRANTGUARD_GRAPH_ENDPOINT: config.graphEndpoint,
      GRANTGUARD_REVOCATIONS_TABLE: config.response.revocationsTable,
      GRANTGUARD_ALERTS_TABLE: config.response.alertsTable,
      GRANTGUARD_AUDIT_TABLE: config.audit.table,
      ...(config.audit.digests ? { GRANTGUARD_BLOB_ENDPOINT: config.audit.digests.blobEndpoint, GRANTGUARD_AUDIT_CONTAINER: config.audit.digests.container, GRANTGUARD_KEY_VAULT_URL: config.audit.digests.keyVaultUrl, GRANTGUARD_AUDIT_KEY: config.audit.digests.keyName } : {}),
      GRANTGUARD_FINDINGS_TABLE: config.findingsTable,
      ...(config.logAnalytics ? { GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID: config.logAnalytics.workspaceId, GRANTGUARD_LOG_ANALYTICS_ENDPOINT: config.logAnalytics.endpoint } : {}),
    },
    managedIdentity: { endpoint: local.simulator.identityEndpoint, header },
    operator: { userId: admin.userPrincipalName, tokenEndpoint: `${local.simulator.url}/_simulator/tokens` },
  });
  return {
    lines: [`grantguard: while this runs, the command line reaches this local Azure as ${admin.userPrincipalName} (settings in ${displayPath(file)}):`, "            npx grantguard revocations list    npx grantguard alerts list    npx grantguard restore ID --reason \"…\"    npx grantguard sweep"],
    remove: () => removeLocalAzure(),
  };
}
