import { randomUUID } from "node:crypto";
import { closeServer, listenOnLoopback } from "../listen.js";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ArmRoleAssignment, GraphDirectoryObject } from "../../shared/model/azure.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { AdminRoutes, type RequestLogEntry } from "./admin.js";
import { ArmAuthorization, assignmentIdAt, splitAssignmentId } from "./arm.js";
import { ArmPim } from "./armPim.js";
import { SimulatedEntra } from "./entra.js";
import { ResourceEvents, type ResourceEvent } from "./events.js";
import { EventGridManagement } from "./eventGridManagement.js";
import { FaultSwitch } from "./faults.js";
import { GraphService } from "./graph.js";
import { GraphAppRoles } from "./graphAppRoles.js";
import { armError, HttpError, readBody, REQUEST_BASE, send, UNKNOWN_ROUTE, type Refusal, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";
import { claimsFor, IdentityEndpoint } from "./identity.js";
import { KeyVaultService } from "./keyVault.js";
import { LogAnalyticsService } from "./logAnalytics.js";
import { ResourceGraphService } from "./resourceGraph.js";
import type { SigningKey, TokenClaims, TokenIssuer } from "./jwt.js";
import type { PimGrant } from "./pim.js";
import { TenantState, type ReplicationLag } from "./tenant.js";
import { WebApps } from "./webApps.js";

export type { RequestLogEntry } from "./admin.js";
export type { ResourceEvent } from "./events.js";

/**
 * How a test or demo spells an id in its request path: ARM ids are case-insensitive and ARM and
 * Event Grid pass the caller's spelling through, so events can carry any of these.
 */
export type IdCasing = "asStored" | "lower" | "upper" | ((id: string) => string);

function spell(id: string, casing: IdCasing = "asStored"): string {
  if (typeof casing === "function") return casing(id);
  return casing === "lower" ? id.toLowerCase() : casing === "upper" ? id.toUpperCase() : id;
}

/** What a test or demo gives to create an assignment (ARM's request properties, plus scope and name). */
export interface GrantInput {
  readonly scope: string;
  readonly name?: string;
  readonly roleDefinitionId: string;
  readonly principalId: string;
  readonly principalType?: string;
  readonly condition?: string;
  readonly conditionVersion?: string;
  readonly description?: string;
}

export interface SimulatorOptions {
  readonly snapshot: TenantSnapshot;
  readonly tls: { readonly key: string; readonly cert: string };
  /** The local Entra ID's token-signing key (published in its JWKS; signs every token the simulator issues). */
  readonly signingKey: SigningKey;
  /** The secret the managed-identity endpoint expects in X-IDENTITY-HEADER (App Service style). */
  readonly identityHeader: string;
  /** Object id of the managed identity a token is issued for when the request names none. */
  readonly defaultIdentityId: string;
  /** Page size of list operations (ARM pages with nextLink). */
  readonly pageSize?: number;
}

/**
 * The Azure simulator: an HTTPS server on loopback speaking the REST of ARM role assignments and
 * definitions, Microsoft Graph directory objects and the App Service managed-identity endpoint,
 * seeded from a tenant snapshot, with a fault switch. The real SDK clients talk to it unmodified.
 *
 * This class is the front: it listens, names each request by asking the services in turn, applies
 * the fault switch, logs the request, checks tokens for the services that ask, and offers the
 * test API. Each service's behaviour lives in its own module (arm.ts, armPim.ts, graph.ts,
 * identity.ts, entra.ts, admin.ts).
 */
export class AzureSimulator {
  readonly faults = new FaultSwitch();
  readonly requests: RequestLogEntry[] = [];
  /** The local Entra ID: OpenID metadata, JWKS, user tokens (see entra.ts). */
  readonly entra: SimulatedEntra;
  /** The Log Analytics query API over the snapshot's logs (its clock, limits and partial-failure hook). */
  readonly logAnalytics: LogAnalyticsService;
  /** Resource Graph's query API over the tenant's authorization resources (its quota and clock). */
  readonly resourceGraph: ResourceGraphService;
  /** The Key Vault keys API (create, get, sign, verify) at the simulator's root, as a vault's host serves it. */
  readonly keyVault: KeyVaultService;
  state: TenantState;
  /** The snapshot the state was seeded from: the deployment resources and app role grants are read from it. */
  #snapshot: TenantSnapshot;
  #server: Server | undefined;
  #url = "";
  readonly #issuer: TokenIssuer;
  readonly #events = new ResourceEvents();
  readonly #arm: ArmAuthorization;
  /** In the order they are asked to name a request: the first that names it answers it. */
  readonly #services: readonly SimulatedService[];

  constructor(private readonly options: SimulatorOptions) {
    this.state = new TenantState(options.snapshot);
    this.#snapshot = options.snapshot;
    this.entra = new SimulatedEntra(options.signingKey, () => this.state, () => this.#url);
    this.#issuer = this.entra.tokens;
    const context: SimulatorContext = {
      state: () => this.state,
      baseUrl: () => this.#url,
      authenticate: (req, audiences, refuse) => this.#authenticate(req, audiences, refuse),
    };
    const pageSize = options.pageSize ?? 100;
    this.#arm = new ArmAuthorization(context, this.#events, pageSize);
    this.logAnalytics = new LogAnalyticsService(context);
    this.resourceGraph = new ResourceGraphService(context);
    this.keyVault = new KeyVaultService(context);
    this.#services = [
      new AdminRoutes(this.faults, this.requests),
      new IdentityEndpoint(context, { issuer: this.#issuer, identityHeader: options.identityHeader, defaultIdentityId: options.defaultIdentityId }),
      this.entra,
      new GraphAppRoles(context, () => this.#snapshot),
      this.keyVault,
      new GraphService(context),
      this.#arm,
      new ArmPim(context, pageSize),
      this.logAnalytics,
      this.resourceGraph,
      new EventGridManagement(context, () => this.#snapshot),
      new WebApps(context, () => this.#snapshot),
    ];
  }

  /** Base URL, e.g. https://127.0.0.1:41234 (ARM, Graph and the token endpoint share it). */
  get url(): string {
    return this.#url;
  }

  /** The App Service style managed-identity endpoint (IDENTITY_ENDPOINT). */
  get identityEndpoint(): string {
    return `${this.#url}/msi/token`;
  }

  async start(port = 0): Promise<void> {
    const server = createServer({ key: this.options.tls.key, cert: this.options.tls.cert }, (req, res) => void this.#handle(req, res));
    this.#url = `https://127.0.0.1:${await listenOnLoopback(server, port)}`;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await closeServer(server);
  }

  /** Calls `listener` with the Event Grid event of every successful role-assignment write or delete. */
  onResourceEvent(listener: (event: ResourceEvent) => void): void {
    this.#events.on(listener);
  }

  /** Replaces the tenant (tests reseed between cases). */
  reset(snapshot: TenantSnapshot): void {
    this.state = new TenantState(snapshot);
    this.#snapshot = snapshot;
    this.faults.clear();
    this.logAnalytics.reset();
    this.resourceGraph.reset();
    this.requests.length = 0;
  }

  /**
   * Creates a role assignment as `callerId` would through ARM, and emits its event: the way
   * demos and tests make a grant "appear" with a chosen granter. `casing` spells the request
   * path (and so the event's subject and resourceUri) as a caller might; ARM stores the id in its
   * own spelling either way.
   */
  grant(input: GrantInput, callerId: string, options: { casing?: IdCasing } = {}): ArmRoleAssignment {
    const name = input.name ?? randomUUID();
    const requested = spell(assignmentIdAt(input.scope, name), options.casing);
    const { scope, name: spelledName } = splitAssignmentId(requested);
    const { assignment } = this.#arm.putAssignment(scope, spelledName, { properties: input }, claimsFor(this.state, callerId, null), requested);
    return assignment;
  }

  /**
   * Has PIM make an assignment, as an admin's AdminAssign or a user's SelfActivate request would:
   * PIM records the request and a schedule instance (no mirror), writes the role assignment and
   * ARM emits its event, with `callerId` (the requestor) as the caller.
   */
  pimGrant(input: GrantInput, pim: Omit<PimGrant, "requestorId">, callerId: string): ArmRoleAssignment {
    if (!this.state.pim) throw new TypeError("this tenant's PIM cannot be read (its snapshot has no PIM section)");
    const name = input.name ?? randomUUID();
    const { assignment } = this.#arm.putAssignment(input.scope, name, { properties: input }, claimsFor(this.state, callerId, null), assignmentIdAt(input.scope, name), { ...pim, requestorId: callerId });
    return assignment;
  }

  /** Deletes a role assignment as `callerId` would, emitting its event; false when it did not exist. */
  revoke(assignmentId: string, callerId: string, options: { casing?: IdCasing } = {}): boolean {
    return this.#arm.deleteAssignment(spell(assignmentId, options.casing), claimsFor(this.state, callerId, null)) !== undefined;
  }

  /**
   * Adds a directory object, optionally one that Graph answers "not found" for until `lag` has
   * passed (replication): ARM then refuses an assignment to it unless the caller names its
   * principalType, as Azure does.
   */
  addPrincipal(principal: GraphDirectoryObject, lag?: ReplicationLag): void {
    this.state.addPrincipal(principal, lag);
  }

  // ---- HTTP plumbing -------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The ARM SDK sends "//subscriptions/…" for id-based calls: collapse before parsing, or
    // "//providers/…" would read as a host name.
    const url = new URL((req.url ?? "/").replace(/^\/{2,}/, "/"), REQUEST_BASE);
    const path = url.pathname;
    let route = UNKNOWN_ROUTE;
    let status = 500;
    try {
      const body = await readBody(req);
      const { name, service } = this.#route(req.method ?? "GET", path);
      route = name;
      const fault = this.faults.take(route);
      if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
      if (fault?.status) {
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { "retry-after": String(fault.retryAfterSeconds) } : {};
        const code = fault.status === 429 ? "TooManyRequests" : fault.status >= 500 ? "ServiceUnavailable" : "InjectedFault";
        throw new HttpError(fault.status, { error: { code, message: `fault injected on ${route}` } }, headers);
      }
      // A path no service serves gets ARM's answer for a resource type it does not know.
      if (!service || route === UNKNOWN_ROUTE) throw armError(404, "InvalidResourceType", `The resource type could not be found for path '${path}'.`);
      const result: ServiceResponse = await service.handle({ route, req, url, path, body });
      status = result.status;
      send(res, result.status, result.body, result.headers);
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        send(res, error.status, error.body, error.headers);
      } else {
        status = 500;
        send(res, 500, { error: { code: "InternalServerError", message: error instanceof Error ? error.message : String(error) } });
      }
    } finally {
      this.requests.push({ route, method: req.method ?? "GET", path, status });
    }
  }

  /** The route name of a request (the fault switch and request log use it) and the service that answers it. */
  #route(method: string, path: string): { name: string; service: SimulatedService | null } {
    const lower = path.toLowerCase();
    for (const service of this.#services) {
      const name = service.routeOf(method, lower);
      if (name !== null) return { name, service };
    }
    return { name: UNKNOWN_ROUTE, service: null };
  }

  #authenticate(req: IncomingMessage, audiences: readonly string[], refuse: Refusal): TokenClaims {
    const header = req.headers.authorization ?? "";
    const token = /^Bearer (.+)$/i.exec(header)?.[1];
    if (!token) throw refuse("Authentication failed. The 'Authorization' header is missing.", undefined, false);
    const verified = this.#issuer.verify(token, audiences, Math.floor(Date.now() / 1000));
    if (!verified.ok) throw refuse(verified.reason, verified.code, true);
    return verified.claims;
  }
}
