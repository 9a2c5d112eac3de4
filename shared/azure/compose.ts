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
import { BlobServiceClient } from "@azure/storage-blob";
import { createTrailDrain, overlappingTrailDrain, type AuditChain, type TrailMarkerStore } from "../audit/trail.js";
import type { DigestSigner, DigestStore, PublicKeyResolver } from "../audit/digest.js";
import { TableAuditChain } from "./auditTrailTable.js";
import { BlobDigestStore } from "./auditTrailDigests.js";
import { createKeyClient, KeyVaultDigestSigner, keyVaultPublicKeys } from "./auditTrailSigner.js";
import type { AuditConfig } from "../config.js";
import { QueueClient } from "@azure/storage-queue";
import { ContainerClient } from "@azure/storage-blob";
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { ConfigError } from "../errors.js";
import { SWEEP_QUEUE } from "../usecases/sweepQueue.js";
import type { SweepReader, SweepStores } from "../usecases/sweepRun.js";
import { AzureSweepReader, CallCounter } from "./sweepReader.js";
import { BlobSweepStaging, StorageShardQueue, TableSweepRuns } from "./sweepStorage.js";
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
  readonly audit: AuditServices;
  /**
   * The findings store of the event path: its commits start their trail drains without waiting
   * for them (`settleTrail` waits), so the trail's appends overlap the event's alerts instead of
   * lengthening the judgement.
   */
  readonly eventFindings: FindingsStore;
  /** Waits for every trail drain the event path's commits have started. */
  settleTrail(): Promise<void>;
}

/** The audit trail: its chain, where its markers wait, and its digests (null when not configured). */
export interface AuditServices {
  readonly chain: AuditChain;
  /** Every table's trail markers: what the timer drains. */
  readonly markers: readonly TrailMarkerStore[];
  readonly digests: { readonly store: DigestStore; readonly signer: DigestSigner; readonly publicKeys: PublicKeyResolver } | null;
}

/** The digests' adapters: the append blobs, the Key Vault signer and the public keys. */
function createDigestServices(digests: NonNullable<AuditConfig["digests"]>, credential: TokenCredential): NonNullable<AuditServices["digests"]> {
  const keys = createKeyClient(digests.keyVaultUrl, credential);
  return {
    store: new BlobDigestStore(new BlobServiceClient(digests.blobEndpoint, credential).getContainerClient(digests.container)),
    signer: new KeyVaultDigestSigner(keys, digests.keyName, credential),
    publicKeys: keyVaultPublicKeys(keys, digests.keyName),
  };
}

// One event asks about its scope a few times in a row; a few seconds of memo serve that
// without letting counts go stale across events.
const SCOPE_MEMO_MS = 5_000;

/** The composition root: the real SDK clients for the configured endpoints, one TokenCredential. */
export function createAzureServices(config: Config, credential: TokenCredential): AzureServices {
  const authorization = createAuthorizationClient(credential, config.armEndpoint);
  const table = (name: string) => new TableClient(`${config.tableEndpoint}`, name, credential);
  const roleDefinitions = new CachedRoleDefinitions(new ArmRoleDefinitions(authorization), config.roleCacheTtlMs);
  const chain = new TableAuditChain(table(config.audit.table));
  // A failed drain loses nothing (the markers stay for the timer): said in the log, never thrown into the change's flow.
  const trail = createTrailDrain(chain, (error) => console.warn(`audit trail: markers left for the timer to drain: ${error instanceof Error ? error.message : String(error)}`));
  const findings = new TableFindingsStore(table(config.findingsTable), { trail });
  const eventTrail = overlappingTrailDrain(trail);
  const revocations = new TableRevocationStore(table(config.response.revocationsTable), { trail });
  const deliveries = new TableAlertDeliveries(table(config.response.alertsTable));
  return {
    roleAssignments: new ArmRoleAssignments(authorization),
    roleDefinitions,
    context: new ArmTenantContext(authorization, roleDefinitions, { scopeTtlMs: SCOPE_MEMO_MS, roleTtlMs: config.roleCacheTtlMs }),
    principals: new GraphPrincipals(createGraphClient(credential, config.graphEndpoint)),
    findings,
    eventFindings: new TableFindingsStore(table(config.findingsTable), { trail: eventTrail.drain }),
    settleTrail: () => eventTrail.settled(),
    findingsReader: findings,
    ledger: new TableEventLedger(table(config.eventsTable)),
    writer: new ArmRoleAssignmentWriter(authorization),
    deliveries,
    findingDeliveries: deliveries,
    access: new TableAccessHistory(table(config.accessTable)),
    revocations,
    audit: { chain, markers: [findings.trailMarkers, revocations.trailMarkers], digests: config.audit.digests ? createDigestServices(config.audit.digests, credential) : null },
    // Resource Graph is served by ARM's endpoint (the simulator's, locally).
    inventory: new ResourceGraphInventory(createResourceGraphClient(credential, config.armEndpoint), authorization),
    activityLogs: config.logAnalytics ? new LogAnalyticsActivityLogs(createLogsClient(credential, config.logAnalytics.endpoint), config.logAnalytics.workspaceId) : null,
  };
}

/** What the standing sweep runs on: a reader per invocation (its own clients, so its calls are counted) and its stores. */
export interface SweepServices {
  /** A reader with fresh clients whose every request (retries included) is counted. */
  reader(): SweepReader;
  /** The staged plans, the shard queue, the run records and the findings; throws ConfigError when the queue or blob endpoint is not set. */
  stores(): SweepStores;
}

/** The sweep's composition: Resource Graph, ARM, Graph and Log Analytics clients with a call counter, and its Storage adapters. */
export function createSweepServices(config: Config, credential: TokenCredential, findings: FindingsStore): SweepServices {
  let stores: SweepStores | undefined;
  return {
    reader: () => createSweepReader({ armEndpoint: config.armEndpoint, graphEndpoint: config.graphEndpoint, logAnalytics: config.logAnalytics }, credential),
    stores() {
      const { queueEndpoint, blobEndpoint, container, runsTable } = config.sweep;
      if (!queueEndpoint || !blobEndpoint) throw new ConfigError("the sweep needs GRANTGUARD_QUEUE_ENDPOINT and GRANTGUARD_BLOB_ENDPOINT (the storage account's queue and blob endpoints)");
      stores ??= {
        staging: new BlobSweepStaging(new ContainerClient(`${blobEndpoint}/${container}`, credential)),
        queue: new StorageShardQueue(new QueueClient(`${queueEndpoint}/${SWEEP_QUEUE}`, credential)),
        runs: new TableSweepRuns(new TableClient(config.tableEndpoint, runsTable, credential)),
        findings,
      };
      return stores;
    },
  };
}

/** Where a sweep reads: ARM (and Resource Graph behind it), Microsoft Graph, and the Log Analytics workspace if any. */
export interface SweepEndpoints {
  readonly armEndpoint: string;
  readonly graphEndpoint: string;
  readonly logAnalytics: { readonly workspaceId: string; readonly endpoint: string } | null;
}

/** A sweep reader with fresh Resource Graph, ARM, Graph and Log Analytics clients, each counting every request it sends (retries included). */
export function createSweepReader(endpoints: SweepEndpoints, credential: TokenCredential): SweepReader {
  const counter = new CallCounter();
  const perRetry = { afterPhase: "Retry" } as const;
  const resourceGraph = createResourceGraphClient(credential, endpoints.armEndpoint);
  resourceGraph.pipeline.addPolicy(counter.policy("resourceGraph"), perRetry);
  const authorization = createAuthorizationClient(credential, endpoints.armEndpoint);
  authorization.pipeline.addPolicy(counter.policy("arm"), perRetry);
  const graph = createGraphClient(credential, endpoints.graphEndpoint);
  graph.pipeline.addPolicy(counter.policy("graph"), perRetry);
  const la = endpoints.logAnalytics;
  const logs = la ? new LogAnalyticsActivityLogs(new LogsQueryClient(credential, { endpoint: la.endpoint, additionalPolicies: [{ policy: counter.policy("logAnalytics"), position: "perRetry" }] }), la.workspaceId) : null;
  return new AzureSweepReader({ resourceGraph, authorization, principals: new GraphPrincipals(graph), activityLogs: logs, counter });
}

/** The findings store in a table, with the given credential (the command line's sweep reads it as the operator). */
export function createFindingsStore(tableEndpoint: string, table: string, credential: TokenCredential): FindingsStore {
  return new TableFindingsStore(new TableClient(tableEndpoint, table, credential));
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
  /** The audit trail's table: a restore or re-arm is appended to it at once (else the timer drains its marker). */
  readonly auditTable?: string;
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
  const trail = settings.auditTable ? createTrailDrain(new TableAuditChain(table(settings.auditTable)), (error) => console.warn(`audit trail: the change is recorded and waits for grantguard's timer to append it (${error instanceof Error ? error.message : String(error)})`)) : undefined;
  return {
    revocations: new TableRevocationStore(table(settings.revocationsTable), trail ? { trail } : {}),
    deliveries: new TableAlertDeliveries(table(settings.alertsTable)),
    writer: createRoleAssignmentWriter(settings.armEndpoint, credential),
  };
}

/** Where an auditor's command line reads the trail: its table, and (when set) the digests' container and signing key. */
export interface AuditReaderSettings {
  readonly tableEndpoint: string;
  readonly table: string;
  readonly digests: AuditConfig["digests"];
}

/** The trail as an auditor reads it with their own credential: the chain, the digests and the signing key's public halves (null when not configured). */
export function createAuditReader(settings: AuditReaderSettings, credential: TokenCredential): { readonly chain: AuditChain; readonly digests: DigestStore | null; readonly publicKeys: PublicKeyResolver | null } {
  const digests = settings.digests ? createDigestServices(settings.digests, credential) : null;
  return { chain: new TableAuditChain(new TableClient(settings.tableEndpoint, settings.table, credential)), digests: digests?.store ?? null, publicKeys: digests?.publicKeys ?? null };
}
