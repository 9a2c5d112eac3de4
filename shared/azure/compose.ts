import { TableClient } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import type { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { Config } from "../config.js";
import { ArmRoleAssignments, ArmRoleAssignmentWriter, ArmRoleDefinitions, CachedRoleDefinitions, createAuthorizationClient } from "./arm.js";
import type { Principals, RoleAssignments, RoleDefinitions } from "../facts/sources.js";
import type { RoleAssignmentWriter } from "../response/writer.js";
import type { AlertDeliveries, Delivery } from "../response/deliveries.js";
import type { RevocationStore } from "../response/revocations.js";
import { TableAlertDeliveries } from "./deliveriesTable.js";
import { TableRevocationStore } from "./revocationsTable.js";
import { createGraphClient, GraphPrincipals } from "./graph.js";
import { TableEventLedger, TableFindingsStore } from "./findingsTable.js";
import type { EventLedger, FindingsStore } from "../findings/store.js";
import type { TenantContext } from "../facts/context.js";
import { ArmTenantContext } from "./armContext.js";
import type { ActivityLogs } from "../facts/activity.js";
import { createLogsClient, LogAnalyticsActivityLogs } from "./logs.js";
import { createResourceGraphClient, ResourceGraphInventory, type TenantInventory } from "./resourceGraph.js";
import type { AccessHistory } from "../findings/access.js";
import type { FindingsReader } from "../findings/query.js";
import { TableAccessHistory } from "./accessHistoryTable.js";

/** Every adapter grantguard uses, built from one credential. */
export interface AzureServices {
  readonly roleAssignments: RoleAssignments;
  readonly roleDefinitions: RoleDefinitions;
  readonly principals: Principals;
  readonly findings: FindingsStore;
  readonly ledger: EventLedger;
  readonly context: TenantContext;
  readonly writer: RoleAssignmentWriter;
  readonly deliveries: AlertDeliveries;
  readonly revocations: RevocationStore;
  /** Sign-ins and activity from Log Analytics; null when no workspace is configured. */
  readonly activityLogs: ActivityLogs | null;
  /** Every role assignment and definition of the tenant: Resource Graph, plus ARM for the root scope. */
  readonly inventory: TenantInventory;
  /** Who held which role where, and when: written by the event path and the sweep, read by auditors. */
  readonly access: AccessHistory;
  /** The findings as auditors read them: filtered, paged, through the store's index entities. */
  readonly findingsReader: FindingsReader & FindingsStore;
  /** One finding's alert deliveries (its story). */
  readonly findingDeliveries: { listForFinding(findingId: string): Promise<Delivery[]> };
}

// One event asks about its scope a few times in a row; a few seconds of memo serve that
// without letting counts go stale across events.
const SCOPE_MEMO_MS = 5_000;

/** The composition root: the real SDK clients for the configured endpoints, one TokenCredential. */
export function createAzureServices(config: Config, credential: TokenCredential): AzureServices {
  const authorization = createAuthorizationClient(credential, config.armEndpoint);
  const table = (name: string) => new TableClient(`${config.tableEndpoint}`, name, credential);
  const roleDefinitions = new CachedRoleDefinitions(new ArmRoleDefinitions(authorization), config.roleCacheTtlMs);
  const findings = new TableFindingsStore(table(config.findingsTable));
  const deliveries = new TableAlertDeliveries(table(config.response.alertsTable));
  return {
    roleAssignments: new ArmRoleAssignments(authorization),
    roleDefinitions,
    context: new ArmTenantContext(authorization, roleDefinitions, { scopeTtlMs: SCOPE_MEMO_MS, roleTtlMs: config.roleCacheTtlMs }),
    principals: new GraphPrincipals(createGraphClient(credential, config.graphEndpoint)),
    findings,
    findingsReader: findings,
    ledger: new TableEventLedger(table(config.eventsTable)),
    writer: new ArmRoleAssignmentWriter(authorization),
    deliveries,
    findingDeliveries: deliveries,
    access: new TableAccessHistory(table(config.accessTable)),
    revocations: new TableRevocationStore(table(config.response.revocationsTable)),
    // Resource Graph is served by ARM's endpoint (the simulator's, locally).
    inventory: new ResourceGraphInventory(createResourceGraphClient(credential, config.armEndpoint), authorization),
    activityLogs: config.logAnalytics ? new LogAnalyticsActivityLogs(createLogsClient(credential, config.logAnalytics.endpoint), config.logAnalytics.workspaceId) : null,
  };
}

/** Role-assignment writes with someone else's credential (a caller restoring over HTTP). */
export function createRoleAssignmentWriter(armEndpoint: string, credential: TokenCredential): RoleAssignmentWriter {
  return new ArmRoleAssignmentWriter(createAuthorizationClient(credential, armEndpoint));
}

/** What a snapshot export reads: ARM's authorization API and Graph's directory, with the operator's credential. */
export function createExportSources(endpoints: { readonly armEndpoint: string; readonly graphEndpoint: string }, credential: TokenCredential): { readonly authorization: AuthorizationManagementClient; readonly principals: Principals } {
  return { authorization: createAuthorizationClient(credential, endpoints.armEndpoint), principals: new GraphPrincipals(createGraphClient(credential, endpoints.graphEndpoint)) };
}

/** Where an operator's command line reaches grantguard's state and ARM. */
export interface OperatorSettings {
  readonly armEndpoint: string;
  readonly tableEndpoint: string;
  readonly revocationsTable: string;
  readonly alertsTable: string;
}

/** What the command line's response verbs use: grantguard's stores and ARM writes, with the operator's own credential. */
export interface OperatorServices {
  readonly revocations: RevocationStore;
  readonly deliveries: AlertDeliveries;
  readonly writer: RoleAssignmentWriter;
}

/** The command line's composition root: the same adapters as the function app, built from the operator's credential. */
export function createOperatorServices(settings: OperatorSettings, credential: TokenCredential): OperatorServices {
  const table = (name: string) => new TableClient(settings.tableEndpoint, name, credential);
  return {
    revocations: new TableRevocationStore(table(settings.revocationsTable)),
    deliveries: new TableAlertDeliveries(table(settings.alertsTable)),
    writer: createRoleAssignmentWriter(settings.armEndpoint, credential),
  };
}
