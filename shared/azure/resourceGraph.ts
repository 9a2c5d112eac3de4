import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/identity";
import { armRoleAssignmentSchema, armRoleDefinitionSchema } from "../model/azure.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, type RoleAssignment, type RoleDefinition } from "../model/access.js";
import { GrantGuardError } from "../errors.js";
import { roleAssignmentFromSdk } from "./arm.js";
import { KQL_DIR } from "./logs.js";

/** Every role assignment and role definition of the tenant, as a sweep reads them. */
export interface TenantInventory {
  /** All role assignments, in pages (Resource Graph's, in id order), then the root-scope ones ARM alone holds; each exactly once. */
  listRoleAssignments(): AsyncIterable<readonly RoleAssignment[]>;
  /** All role definitions, custom and built-in. */
  listRoleDefinitions(): Promise<readonly RoleDefinition[]>;
}

/** The most rows Resource Graph returns in one answer (the spec's `$top` maximum). */
export const RESOURCE_GRAPH_PAGE = 1000;

type PipelinePolicy = Parameters<ResourceGraphClient["pipeline"]["addPolicy"]>[0];

/** How the quota policy waits and reads the time (tests inject both). */
export interface QuotaClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<unknown>;
}

const REAL_CLOCK: QuotaClock = { now: Date.now, sleep: (ms) => sleep(ms) };

/** hh:mm:ss (or d.hh:mm:ss) as milliseconds; null when it is not one. */
export function parseResetsAfter(text: string | undefined): number | null {
  const m = text ? /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text.trim()) : null;
  if (!m) return null;
  const [, d, h, min, s, frac] = m;
  return ((Number(d ?? 0) * 24 + Number(h)) * 3600 + Number(min) * 60 + Number(s)) * 1000 + (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
function parseRetryAfter(text: string | undefined, now: number): number | null {
  if (!text) return null;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * A pipeline policy that keeps within Resource Graph's per-user quota: when an answer says no
 * quota remains, the next request waits until `x-ms-user-quota-resets-after` has passed; a 429
 * waits its Retry-After (else the reset time, else a second) and is sent again, up to
 * `maxThrottledAttempts` times, so a sweep is never failed by throttling it can wait out.
 * Concurrent requests through one client share what the last answer said.
 */
export function resourceGraphQuotaPolicy(clock: QuotaClock = REAL_CLOCK, maxThrottledAttempts = 30): PipelinePolicy {
  let blockedUntil = 0;
  return {
    name: "resourceGraphQuota",
    async sendRequest(request, next) {
      for (let attempt = 1; ; attempt += 1) {
        const wait = blockedUntil - clock.now();
        if (wait > 0) await clock.sleep(wait);
        const response = await next(request);
        const now = clock.now();
        const remaining = Number(response.headers.get("x-ms-user-quota-remaining") ?? Number.NaN);
        const resets = parseResetsAfter(response.headers.get("x-ms-user-quota-resets-after"));
        if (remaining === 0 && resets !== null) blockedUntil = Math.max(blockedUntil, now + resets);
        if (response.status !== 429 || attempt >= maxThrottledAttempts) return response;
        blockedUntil = Math.max(blockedUntil, now + (parseRetryAfter(response.headers.get("retry-after"), now) ?? resets ?? 1000));
      }
    },
  };
}

/** Builds the Resource Graph client for an endpoint (ARM's, or the local simulator's), with the quota policy in its pipeline. */
export function createResourceGraphClient(credential: TokenCredential, endpoint: string, clock?: QuotaClock): ResourceGraphClient {
  const client = new ResourceGraphClient(credential, { endpoint, credentials: { scopes: ["https://management.azure.com/.default"] } });
  client.pipeline.addPolicy(resourceGraphQuotaPolicy(clock));
  return client;
}

/** Resource Graph cut an answer short with no way to page on: the inventory would be incomplete. */
export class InventoryTruncatedError extends GrantGuardError {}

/** The inventory's queries, kept as .kql files beside the adapters. */
export function readQuery(dir: string, name: string): string {
  return readFileSync(join(dir, `${name}.kql`), "utf8");
}

/**
 * `TenantInventory` over Azure Resource Graph (`authorizationresources`, pages of up to 1,000 with
 * the skip token), plus the root-scope assignments read from ARM with atScope() at "/", which
 * Resource Graph is not documented to hold; an assignment both return is listed once.
 */
export class ResourceGraphInventory implements TenantInventory {
  readonly #queries: { readonly assignments: string; readonly definitions: string };

  constructor(
    private readonly graph: ResourceGraphClient,
    private readonly authorization: AuthorizationManagementClient,
    private readonly options: { readonly pageSize?: number; readonly queryDir?: string } = {},
  ) {
    const dir = options.queryDir ?? KQL_DIR;
    this.#queries = { assignments: readQuery(dir, "roleAssignments"), definitions: readQuery(dir, "roleDefinitions") };
  }

  async *listRoleAssignments(): AsyncIterable<readonly RoleAssignment[]> {
    const atRoot = new Set<string>();
    for await (const rows of this.#pages(this.#queries.assignments)) {
      const page = rows.map((row) => roleAssignmentFromArm(armRoleAssignmentSchema.parse(row)));
      for (const a of page) if (a.scope === "/") atRoot.add(a.id.toLowerCase());
      if (page.length > 0) yield page;
    }
    const root: RoleAssignment[] = [];
    for await (const a of this.authorization.roleAssignments.listForScope("/", { filter: "atScope()" })) {
      const assignment = roleAssignmentFromSdk(a);
      // atScope() at "/" answers exactly the root's assignments; anything else came from below and Resource Graph has it.
      if (assignment.scope !== "/" || atRoot.has(assignment.id.toLowerCase())) continue;
      atRoot.add(assignment.id.toLowerCase());
      root.push(assignment);
    }
    if (root.length > 0) yield root;
  }

  async listRoleDefinitions(): Promise<readonly RoleDefinition[]> {
    const definitions: RoleDefinition[] = [];
    for await (const rows of this.#pages(this.#queries.definitions)) definitions.push(...rows.map((row) => roleDefinitionFromArm(armRoleDefinitionSchema.parse(row))));
    return definitions;
  }

  #pages(query: string): AsyncIterable<readonly unknown[]> {
    return resourceGraphPages(this.graph, query, { pageSize: this.options.pageSize });
  }
}

/**
 * The rows of a Resource Graph query, page by page (up to 1,000 each, with the skip token), over the
 * whole tenant or the named subscriptions. A truncated answer with no skip token throws: never used as complete.
 */
export async function* resourceGraphPages(graph: ResourceGraphClient, query: string, options: { readonly pageSize?: number; readonly subscriptions?: readonly string[] } = {}): AsyncIterable<readonly unknown[]> {
  let skipToken: string | undefined;
  do {
    const answer = await graph.resources({ query, ...(options.subscriptions ? { subscriptions: [...options.subscriptions] } : {}), options: { top: options.pageSize ?? RESOURCE_GRAPH_PAGE, resultFormat: "objectArray", ...(skipToken ? { skipToken } : {}) } });
    if (answer.resultTruncated === "true") throw new InventoryTruncatedError(`Resource Graph truncated the answer to ${answer.count} of ${answer.totalRecords} rows without a skip token`);
    yield Array.isArray(answer.data) ? (answer.data as unknown[]) : [];
    skipToken = answer.skipToken;
  } while (skipToken);
}
