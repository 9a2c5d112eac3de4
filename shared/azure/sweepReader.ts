import { nullWhenRefused } from "./armContext.js";
import type { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { ActivityLogs } from "../facts/activity.js";
import type { PimInstanceRecord, PimRequestRecord } from "../facts/pim.js";
import type { Principals } from "../facts/sources.js";
import { findingsPartition } from "../findings/keys.js";
import { armRoleAssignmentSchema, armRoleDefinitionSchema } from "../model/azure.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, type Principal, type RoleAssignment, type RoleDefinition } from "../model/access.js";
import type { CallCounts, SweepReader } from "../usecases/sweepRun.js";
import type { TenantTree } from "../usecases/sweepSlice.js";
import { roleAssignmentFromSdk } from "./arm.js";
import { KQL_DIR } from "./logs.js";
import { readQuery, resourceGraphPages } from "./resourceGraph.js";

/** Counts every request a client sends (each retry too), by service: what a run reports as its calls. */
export class CallCounter {
  readonly #counts = { resourceGraph: 0, arm: 0, graph: 0, logAnalytics: 0 };

  /** A pipeline policy that counts each request it passes on under `service`. */
  policy(service: keyof CallCounts): PipelinePolicy {
    return {
      name: `grantguardCount-${service}`,
      sendRequest: (request, next) => {
        this.#counts[service] += 1;
        return next(request);
      },
    };
  }

  get counts(): CallCounts {
    return { ...this.#counts };
  }
}

/** The clients a reader reads through, made for one invocation with a CallCounter in each pipeline. */
export interface SweepClients {
  readonly resourceGraph: ResourceGraphClient;
  readonly authorization: AuthorizationManagementClient;
  readonly principals: Principals;
  readonly activityLogs: ActivityLogs | null;
  readonly counter: CallCounter;
}

/** `SweepReader` over Resource Graph (inventory, counts, containers), ARM (root scope, PIM) and Microsoft Graph (principals). */
export class AzureSweepReader implements SweepReader {
  readonly #queries: Readonly<Record<"partitionCounts" | "containers" | "roleDefinitions" | "roleAssignments" | "tenantScope", string>>;
  readonly activityLogs: ActivityLogs | null;

  constructor(
    private readonly clients: SweepClients,
    private readonly options: { readonly pageSize?: number; readonly queryDir?: string } = {},
  ) {
    const dir = options.queryDir ?? KQL_DIR;
    this.#queries = {
      partitionCounts: readQuery(dir, "partitionCounts"),
      containers: readQuery(dir, "containers"),
      roleDefinitions: readQuery(dir, "roleDefinitions"),
      roleAssignments: readQuery(dir, "roleAssignments"),
      tenantScope: readQuery(dir, "tenantScopeRoleAssignments"),
    };
    this.activityLogs = clients.activityLogs;
  }

  calls(): CallCounts {
    return this.clients.counter.counts;
  }

  async partitionCounts(): Promise<ReadonlyMap<string, number>> {
    const counts = new Map<string, number>();
    for await (const rows of this.#pages(this.#queries.partitionCounts)) {
      for (const row of rows as { id?: unknown; assignments?: unknown }[]) {
        if (typeof row.id !== "string" || row.id === "") continue;
        const partition = findingsPartition(row.id);
        counts.set(partition, (counts.get(partition) ?? 0) + Number(row.assignments ?? 0));
      }
    }
    return counts;
  }

  async tree(): Promise<TenantTree> {
    const managementGroups: { name: string; parent: string | null }[] = [];
    const subscriptions: { subscriptionId: string; managementGroup: string | null }[] = [];
    let tenantId: string | null = null;
    type Chain = { name?: unknown }[] | undefined;
    const parentOf = (chain: Chain) => (Array.isArray(chain) && typeof chain[0]?.name === "string" ? chain[0].name : null);
    for await (const rows of this.#pages(this.#queries.containers)) {
      for (const row of rows as { id?: unknown; name?: unknown; type?: unknown; tenantId?: unknown; subscriptionId?: unknown; properties?: { managementGroupAncestorsChain?: Chain; details?: { managementGroupAncestorsChain?: Chain } } }[]) {
        if (typeof row.tenantId === "string" && row.tenantId !== "") tenantId ??= row.tenantId.toLowerCase();
        const type = String(row.type ?? "").toLowerCase();
        if (type === "microsoft.resources/subscriptions" && typeof row.subscriptionId === "string") subscriptions.push({ subscriptionId: row.subscriptionId.toLowerCase(), managementGroup: parentOf(row.properties?.managementGroupAncestorsChain) });
        else if (type === "microsoft.management/managementgroups" && typeof row.name === "string") managementGroups.push({ name: row.name, parent: parentOf(row.properties?.details?.managementGroupAncestorsChain) });
      }
    }
    return { tenantId, managementGroups, subscriptions };
  }

  async roleDefinitions(): Promise<readonly RoleDefinition[]> {
    const definitions: RoleDefinition[] = [];
    for await (const rows of this.#pages(this.#queries.roleDefinitions)) definitions.push(...rows.map((row) => roleDefinitionFromArm(armRoleDefinitionSchema.parse(row))));
    return definitions;
  }

  async *subscriptionAssignments(subscriptionIds: readonly string[]): AsyncIterable<readonly RoleAssignment[]> {
    for await (const rows of this.#pages(this.#queries.roleAssignments, subscriptionIds)) yield rows.map((row) => roleAssignmentFromArm(armRoleAssignmentSchema.parse(row)));
  }

  async *tenantScopeAssignments(): AsyncIterable<readonly RoleAssignment[]> {
    const seen = new Set<string>();
    for await (const rows of this.#pages(this.#queries.tenantScope)) {
      const page = rows.map((row) => roleAssignmentFromArm(armRoleAssignmentSchema.parse(row)));
      for (const a of page) seen.add(a.id.toLowerCase());
      yield page;
    }
    // The root's from ARM: atScope() at "/" answers exactly the root's assignments.
    const root: RoleAssignment[] = [];
    for await (const a of this.clients.authorization.roleAssignments.listForScope("/", { filter: "atScope()" })) {
      const assignment = roleAssignmentFromSdk(a);
      if (assignment.scope !== "/" || seen.has(assignment.id.toLowerCase())) continue;
      seen.add(assignment.id.toLowerCase());
      root.push(assignment);
    }
    if (root.length > 0) yield root;
  }

  async pim(scope: string, exact: boolean): Promise<{ readonly instances: PimInstanceRecord[] | null; readonly requests: PimRequestRecord[] | null }> {
    const options = exact ? { filter: "atScope()" } : {};
    const [instances, requests] = await Promise.all([
      nullWhenRefused(async () => {
        const found: PimInstanceRecord[] = [];
        for await (const i of this.clients.authorization.roleAssignmentScheduleInstances.listForScope(scope, options)) {
          if (!i.principalId || !i.roleDefinitionId || !i.scope) continue;
          found.push({ principalId: i.principalId, roleDefinitionId: i.roleDefinitionId, scope: i.scope, endDateTime: i.endDateTime?.toISOString() ?? null, assignmentType: i.assignmentType ?? null, memberType: i.memberType ?? null, linkedRoleEligibilityScheduleId: i.linkedRoleEligibilityScheduleId ?? null });
        }
        return found;
      }),
      nullWhenRefused(async () => {
        const found: PimRequestRecord[] = [];
        for await (const r of this.clients.authorization.roleAssignmentScheduleRequests.listForScope(scope, options)) {
          if (!r.principalId || !r.roleDefinitionId || !r.scope) continue;
          found.push({ principalId: r.principalId, roleDefinitionId: r.roleDefinitionId, scope: r.scope, requestType: r.requestType ?? null, status: r.status ?? null, createdOn: r.createdOn?.toISOString() ?? null });
        }
        return found;
      }),
    ]);
    return { instances, requests };
  }

  principals(ids: readonly string[]): Promise<readonly Principal[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.clients.principals.listByIds(ids);
  }

  #pages(query: string, subscriptions?: readonly string[]): AsyncIterable<readonly unknown[]> {
    return resourceGraphPages(this.clients.resourceGraph, query, { pageSize: this.options.pageSize, subscriptions });
  }
}
