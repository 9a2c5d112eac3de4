// The sweep the bench measures, as one call over the function app's adapters (the real SDK
// clients): every assignment and role definition from Resource Graph (ResourceGraphInventory, its
// quota policy in the pipeline), the three log questions asked once (gatherActivity over Log
// Analytics), the principals through Graph getByIds, PIM's instances and requests per subscription
// from ARM, then sweepTenant into Table Storage. It holds the whole tenant in memory, as
// sweepTenant's inventory does.
import type { TokenCredential } from "@azure/identity";
import { createAuthorizationClient } from "../shared/azure/arm.js";
import { createAzureServices } from "../shared/azure/compose.js";
import type { Config } from "../shared/config.js";
import type { TenantContext, Workloads } from "../shared/facts/context.js";
import { systemAssignedWorkloads } from "../shared/facts/context.js";
import { SnapshotContext } from "../shared/facts/snapshotContext.js";
import { ActivityIndex, DEFAULT_LOOKBACK_DAYS, gatherActivity } from "../shared/facts/sweepFacts.js";
import { mapConcurrently } from "../shared/model/concurrency.js";
import type { Principal, RoleAssignment, RoleDefinition } from "../shared/model/access.js";
import type { ArmRoleAssignment, ArmRoleDefinition } from "../shared/model/azure.js";
import type { TenantSnapshot } from "../shared/model/snapshot.js";
import type { PolicyPack } from "../shared/policy/load.js";
import { sweepTenant, type SweepRun } from "../shared/usecases/sweep.js";

/** What one measured sweep did, from inside the sweeping process. */
export interface SweepMeasurement {
  readonly run: Pick<SweepRun, "assignments" | "subscriptions" | "principals" | "partitions" | "findingWrites" | "holding">;
  /** Seconds in each step: reading (Resource Graph, PIM and the logs at once), principals, judging and writing. */
  readonly phases: Readonly<Record<string, number>>;
}

/** Where and with what the sweep runs. */
export interface SweepSetting {
  readonly config: Config;
  readonly tenantId: string;
  readonly credential: TokenCredential;
  readonly pack: PolicyPack;
  readonly now: Date;
}

// How many subscriptions' PIM records are read at once while Resource Graph pages.
const PIM_CONCURRENCY = 8;

// The ARM shape back from the flat model: SnapshotContext indexes a tenant in ARM's shapes.
function armAssignment(a: RoleAssignment): ArmRoleAssignment {
  const { id, name, ...properties } = a;
  return { id, name, type: "Microsoft.Authorization/roleAssignments", properties };
}

function armDefinition(d: RoleDefinition): ArmRoleDefinition {
  return { id: d.id, name: d.name, type: "Microsoft.Authorization/roleDefinitions", properties: { roleName: d.roleName, type: d.roleType, description: d.description, permissions: [...d.permissions], assignableScopes: [...d.assignableScopes] } };
}

/**
 * The tenant context of what the sweep read: counts at each scope and PIM status from the
 * assignments and PIM records listed, duplicate custom roles from the definitions. Where user-
 * assigned identities run is not read here (no resource inventory), so it is unknown, not empty.
 */
class ReadContext implements TenantContext {
  constructor(private readonly snapshot: SnapshotContext) {}
  scopeSummary(scope: string) {
    return this.snapshot.scopeSummary(scope);
  }
  pimStatus(assignment: RoleAssignment) {
    return this.snapshot.pimStatus(assignment);
  }
  duplicateRoleNames(role: RoleDefinition, scope: string) {
    return this.snapshot.duplicateRoleNames(role, scope);
  }
  async workloads(principal: Principal | null): Promise<Workloads> {
    return systemAssignedWorkloads(principal) ?? { known: false, resourceIds: [], resourceGroups: [] };
  }
}

/** One full sweep of the tenant into the configured findings table (the step the bench times). */
export async function sweepThroughAzure(setting: SweepSetting): Promise<SweepMeasurement> {
  const { config, credential } = setting;
  // The function app's own adapters (its composition root), and ARM's client for PIM's lists.
  const services = createAzureServices(config, credential);
  const authorization = createAuthorizationClient(credential, config.armEndpoint);
  const { inventory, findings } = services;
  const logs = services.activityLogs;
  if (!logs) throw new Error("the sweep bench needs a Log Analytics workspace (GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID)");
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = (now - mark) / 1000;
    mark = now;
  };

  // PIM is read per subscription as Resource Graph's pages name them (its pages come in id
  // order, so subscription by subscription), while the quota paces the pages.
  const instances: Record<string, unknown>[] = [];
  const requests: Record<string, unknown>[] = [];
  const pimReads: Promise<void>[] = [];
  const pending: string[] = [];
  let pimWorkers = 0;
  const readPim = async (): Promise<void> => {
    for (let sub = pending.shift(); sub !== undefined; sub = pending.shift()) {
      // At, above and below the subscription: those above it are every subscription's, and left out.
      const scope = `/subscriptions/${sub}`;
      const inside = (record: { scope?: string }) => { const s = record.scope?.toLowerCase() ?? ""; return s === scope || s.startsWith(`${scope}/`); };
      for await (const i of authorization.roleAssignmentScheduleInstances.listForScope(scope)) if (inside(i)) instances.push(pimRecord(i));
      for await (const r of authorization.roleAssignmentScheduleRequests.listForScope(scope)) if (inside(r)) requests.push(pimRecord(r));
    }
    pimWorkers -= 1;
  };
  const subscriptions = new Set<string>();
  const assignments: RoleAssignment[] = [];
  const listing = (async () => {
    for await (const page of inventory.listRoleAssignments()) {
      for (const a of page) {
        assignments.push(a);
        const sub = /^\/subscriptions\/([^/]+)/i.exec(a.scope)?.[1]?.toLowerCase();
        if (sub && !subscriptions.has(sub)) {
          subscriptions.add(sub);
          pending.push(sub);
        }
      }
      while (pimWorkers < PIM_CONCURRENCY && pending.length > 0) {
        pimWorkers += 1;
        pimReads.push(readPim());
      }
    }
  })();
  const [definitions, evidence] = await Promise.all([inventory.listRoleDefinitions(), gatherActivity(logs, { lookbackDays: DEFAULT_LOOKBACK_DAYS }), listing]);
  // Subscriptions the last pages named, and the readers still at work.
  while (pending.length > 0 && pimWorkers < PIM_CONCURRENCY) {
    pimWorkers += 1;
    pimReads.push(readPim());
  }
  await Promise.all(pimReads);
  phase("read");

  const ids = [...new Set(assignments.flatMap((a) => [a.principalId, a.createdBy]).filter((id): id is string => !!id).map((id) => id.toLowerCase()))];
  const principals = new Map((await mapConcurrently(chunks(ids, 1000), 4, (chunk) => services.principals.listByIds(chunk))).flat().map((p) => [p.id.toLowerCase(), p]));

  phase("principals");
  const roles = new Map(definitions.map((d) => [d.name.toLowerCase(), d]));
  const tenant: TenantSnapshot = {
    tenantId: setting.tenantId,
    managementGroups: [],
    subscriptions: [...subscriptions].map((s) => ({ id: `/subscriptions/${s}`, subscriptionId: s })),
    roleDefinitions: definitions.map(armDefinition),
    roleAssignments: assignments.map(armAssignment),
    roleAssignmentScheduleInstances: instances,
    roleAssignmentScheduleRequests: requests,
    principals: [],
    resources: [],
    logs: {},
  };
  const run = await sweepTenant(
    {
      tenantId: setting.tenantId,
      assignments,
      roles,
      principals,
      subscriptionIds: [...subscriptions],
      context: new ReadContext(new SnapshotContext(tenant)),
      activity: new ActivityIndex(evidence, roles.values(), setting.now),
    },
    { findings, policies: setting.pack.policies, exemptions: setting.pack.exemptions, now: setting.now },
  );
  phase("judge and write");
  return { run: { assignments: run.assignments, subscriptions: run.subscriptions, principals: run.principals, partitions: run.partitions, findingWrites: run.findingWrites, holding: run.holding }, phases };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// A PIM record from the SDK's flat model (dates as Date) back to ARM's REST shape (what SnapshotContext reads).
function pimRecord(record: object): Record<string, unknown> {
  const { id, name, type, ...rest } = record as Record<string, unknown>;
  const properties = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
  return { id, name, type, properties };
}
