import { randomUUID } from "node:crypto";
import { closeServer, listenOnLoopback } from "../listen.js";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { armRoleAssignmentSchema, type ArmRoleAssignment, type GraphDirectoryObject } from "../../shared/model/azure.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { FaultSwitch, type FaultRule } from "./faults.js";
import { SimulatedEntra, entraRouteName } from "./entra.js";
import type { SigningKey, TokenClaims, TokenIssuer } from "./jwt.js";
import { declaredBy, declaredByAnyType, graphTypeOf, parseSelect, shapeObject } from "./graphObjects.js";
import type { PimGrant, PimObject } from "./pim.js";
import { TenantState, type ReplicationLag } from "./tenant.js";

// api-versions ARM serves, per resource type (the version folders of azure-rest-api-specs
// specification/authorization/resource-manager/Microsoft.Authorization that define them).
const AUTHORIZATION_API_VERSIONS = new Set(["2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-04-01-preview", "2020-10-01", "2020-10-01-preview", "2022-04-01", "2022-05-01-preview"]);
const PIM_API_VERSIONS = new Set(["2020-10-01-preview", "2020-10-01", "2024-09-01-preview"]);
const ARM_AUDIENCES = ["https://management.azure.com", "https://management.core.windows.net"];
const GRAPH_AUDIENCES = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];
const ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments";
const DEFINITIONS = "/providers/microsoft.authorization/roledefinitions";
const SCHEDULE_INSTANCES = "/providers/microsoft.authorization/roleassignmentscheduleinstances";
const SCHEDULE_REQUESTS = "/providers/microsoft.authorization/roleassignmentschedulerequests";

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

/** An Event Grid event as a subscription system topic emits it for a role-assignment write or delete. */
export type ResourceEvent = Record<string, unknown> & { id: string; eventType: string; subject: string };

/** One request the simulator answered, for tests that prove retries and caching. */
export interface RequestLogEntry {
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
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

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const armError = (status: number, code: string, message: string) => new HttpError(status, { error: { code, message } });
const graphError = (status: number, code: string, message: string) =>
  new HttpError(status, { error: { code, message, innerError: { date: new Date().toISOString(), "request-id": randomUUID(), "client-request-id": randomUUID() } } });

/**
 * The Azure simulator: an HTTPS server on loopback speaking the REST of ARM role assignments and
 * definitions, Microsoft Graph directory objects and the App Service managed-identity endpoint,
 * seeded from a tenant snapshot, with a fault switch. The real SDK clients talk to it unmodified.
 */
export class AzureSimulator {
  readonly faults = new FaultSwitch();
  readonly requests: RequestLogEntry[] = [];
  /** The local Entra ID: OpenID metadata, JWKS, user tokens (see entra.ts). */
  readonly entra: SimulatedEntra;
  state: TenantState;
  #server: Server | undefined;
  #url = "";
  readonly #issuer: TokenIssuer;
  readonly #listeners: ((event: ResourceEvent) => void)[] = [];

  constructor(private readonly options: SimulatorOptions) {
    this.state = new TenantState(options.snapshot);
    this.entra = new SimulatedEntra(options.signingKey, () => this.state, () => this.#url);
    this.#issuer = this.entra.tokens;
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
    this.#listeners.push(listener);
  }

  /** Replaces the tenant (tests reseed between cases). */
  reset(snapshot: TenantSnapshot): void {
    this.state = new TenantState(snapshot);
    this.faults.clear();
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
    const { scope, name: spelledName } = splitProviderPath(requested, ASSIGNMENTS);
    const { assignment } = this.#putAssignment(scope, spelledName, { properties: input }, this.#claimsFor(callerId, null), requested);
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
    const { assignment } = this.#putAssignment(input.scope, name, { properties: input }, this.#claimsFor(callerId, null), assignmentIdAt(input.scope, name), { ...pim, requestorId: callerId });
    return assignment;
  }

  /** Deletes a role assignment as `callerId` would, emitting its event; false when it did not exist. */
  revoke(assignmentId: string, callerId: string, options: { casing?: IdCasing } = {}): boolean {
    return this.#deleteAssignment(spell(assignmentId, options.casing), this.#claimsFor(callerId, null)) !== undefined;
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
    const url = new URL((req.url ?? "/").replace(/^\/{2,}/, "/"), "https://simulator");
    const path = url.pathname;
    let route = "unknown";
    let status = 500;
    try {
      const body = await readBody(req);
      route = routeName(req.method ?? "GET", path);
      const fault = this.faults.take(route);
      if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
      if (fault?.status) {
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { "retry-after": String(fault.retryAfterSeconds) } : {};
        const code = fault.status === 429 ? "TooManyRequests" : fault.status >= 500 ? "ServiceUnavailable" : "InjectedFault";
        throw new HttpError(fault.status, { error: { code, message: `fault injected on ${route}` } }, headers);
      }
      const result = await this.#dispatch(route, req, url, path, body);
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

  async #dispatch(route: string, req: IncomingMessage, url: URL, path: string, body: unknown): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    if (route === "simulator.faults") return this.#faultsRoute(req, body);
    if (route === "simulator.requests") return { status: 200, body: { value: this.requests } };
    if (route === "identity.token") return { status: 200, body: this.#token(req, url) };
    if (route.startsWith("entra.")) return this.entra.handle(route, req, url, body);
    if (route.startsWith("graph.")) return this.#graph(route, req, url, path, body);
    return this.#arm(route, req, url, path, body);
  }

  // ---- The fault switch over HTTP (POST a rule, DELETE to clear) -----------------------------

  #faultsRoute(req: IncomingMessage, body: unknown): { status: number; body: unknown } {
    if (req.method === "DELETE") {
      this.faults.clear();
      return { status: 200, body: { cleared: true } };
    }
    const rule = parseFaultRule(body);
    if (typeof rule === "string") throw new HttpError(400, { error: { code: "InvalidFaultRule", message: rule } });
    this.faults.add(rule);
    return { status: 201, body: rule };
  }

  // ---- Managed identity (App Service style) --------------------------------------------------

  #token(req: IncomingMessage, url: URL): unknown {
    if (req.headers["x-identity-header"] !== this.options.identityHeader) {
      throw new HttpError(401, { statusCode: 401, message: "The X-IDENTITY-HEADER header is missing or wrong" });
    }
    const resource = url.searchParams.get("resource");
    if (!resource) throw new HttpError(400, { statusCode: 400, message: "resource is required" });
    const clientId = url.searchParams.get("client_id");
    const principalId = url.searchParams.get("principal_id");
    let identity = this.options.defaultIdentityId;
    if (clientId || principalId) {
      const match = [...this.state.principals.values()].find(
        (p) => p["@odata.type"] === "#microsoft.graph.servicePrincipal" && ((clientId !== null && p.appId?.toLowerCase() === clientId.toLowerCase()) || (principalId !== null && p.id.toLowerCase() === principalId.toLowerCase())),
      );
      if (!match) throw new HttpError(400, { statusCode: 400, message: "No managed identity matches the requested client_id/principal_id" });
      identity = match.id;
    }
    const now = Math.floor(Date.now() / 1000);
    const expiresOn = now + 3600;
    const claims: TokenClaims = { ...this.#claimsFor(identity, resource), iat: now, nbf: now, exp: expiresOn };
    return { access_token: this.#issuer.issue(claims), expires_on: String(expiresOn), resource, token_type: "Bearer", client_id: claims.appid ?? identity };
  }

  #claimsFor(principalId: string, audience: string | null): TokenClaims {
    const principal = this.state.principals.get(principalId.toLowerCase());
    const isUser = principal?.["@odata.type"] === "#microsoft.graph.user";
    const now = Math.floor(Date.now() / 1000);
    return {
      aud: (audience ?? "https://management.azure.com").replace(/\/\.default$/, ""),
      iss: `https://sts.windows.net/${this.state.tenantId}/`,
      tid: this.state.tenantId,
      oid: principalId,
      sub: principalId,
      appid: principal && principal["@odata.type"] === "#microsoft.graph.servicePrincipal" ? principal.appId : "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
      idtyp: isUser ? "user" : "app",
      iat: now,
      nbf: now,
      exp: now + 3600,
      ...(isUser && principal.userPrincipalName ? { upn: principal.userPrincipalName } : {}),
      ...(principal?.displayName ? { name: principal.displayName } : {}),
    };
  }

  #authenticate(req: IncomingMessage, audiences: readonly string[], service: "arm" | "graph"): TokenClaims {
    const header = req.headers.authorization ?? "";
    const token = /^Bearer (.+)$/i.exec(header)?.[1];
    const fail = (reason: string, code?: string) =>
      service === "arm"
        ? new HttpError(401, { error: { code: code ?? (token ? "InvalidAuthenticationToken" : "AuthenticationFailed"), message: reason } }, { "www-authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"' })
        : graphError(401, "InvalidAuthenticationToken", reason);
    if (!token) throw fail("Authentication failed. The 'Authorization' header is missing.");
    const verified = this.#issuer.verify(token, audiences, Math.floor(Date.now() / 1000));
    if (!verified.ok) throw fail(verified.reason, verified.code);
    return verified.claims;
  }

  // ---- ARM: Microsoft.Authorization ----------------------------------------------------------

  #arm(route: string, req: IncomingMessage, url: URL, path: string, body: unknown): { status: number; body: unknown } {
    if (route === "unknown") throw armError(404, "InvalidResourceType", `The resource type could not be found for path '${path}'.`);
    const caller = this.#authenticate(req, ARM_AUDIENCES, "arm");
    const apiVersion = url.searchParams.get("api-version");
    if (!apiVersion) throw armError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    const pim = route.startsWith("arm.roleAssignmentSchedule");
    const versions = pim ? PIM_API_VERSIONS : AUTHORIZATION_API_VERSIONS;
    if (!versions.has(apiVersion)) {
      throw armError(400, "InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid. The supported versions are '${[...versions].join(",")}'.`);
    }
    const kind = route.split(".")[1];
    const segment = kind === "roleAssignmentScheduleInstances" ? SCHEDULE_INSTANCES : kind === "roleAssignmentScheduleRequests" ? SCHEDULE_REQUESTS : kind === "roleAssignments" ? ASSIGNMENTS : DEFINITIONS;
    const { scope, name } = splitProviderPath(path, segment);
    const filter = url.searchParams.get("$filter");
    switch (route) {
      case "arm.roleAssignments.get": {
        const found = this.state.assignments.get(`${scope === "/" ? "" : scope}${ASSIGNMENTS}/${name}`.toLowerCase());
        if (!found) throw armError(404, "RoleAssignmentNotFound", `The role assignment '${name}' is not found.`);
        return { status: 200, body: found };
      }
      case "arm.roleAssignments.create": {
        const result = this.#putAssignment(scope, name, body, caller, path);
        return { status: result.created ? 201 : 200, body: result.assignment };
      }
      case "arm.roleAssignments.delete": {
        const deleted = this.#deleteAssignment(`${scope === "/" ? "" : scope}${ASSIGNMENTS}/${name}`, caller);
        return deleted ? { status: 200, body: deleted } : { status: 204, body: undefined };
      }
      case "arm.roleAssignments.list":
        return { status: 200, body: this.#page(url, this.#listAssignments(scope, filter)) };
      case "arm.roleDefinitions.get": {
        const found = this.#definitionAt(scope, name);
        if (!found) throw armError(404, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${name}' does not exist.`);
        return { status: 200, body: found };
      }
      case "arm.roleDefinitions.list":
        return { status: 200, body: this.#page(url, this.#listDefinitions(scope, filter)) };
      case "arm.roleAssignmentScheduleInstances.list":
        return { status: 200, body: this.#page(url, this.#listPim("roleAssignmentScheduleInstances", this.#pimInstances(), scope, filter, caller)) };
      case "arm.roleAssignmentScheduleInstances.get":
        return { status: 200, body: this.#pimByName("roleAssignmentScheduleInstances", this.#pimInstances(), scope, name) };
      case "arm.roleAssignmentScheduleRequests.list":
        return { status: 200, body: this.#page(url, this.#listPim("roleAssignmentScheduleRequests", this.#pimRequests(), scope, filter, caller)) };
      case "arm.roleAssignmentScheduleRequests.get":
        return { status: 200, body: this.#pimByName("roleAssignmentScheduleRequests", this.#pimRequests(), scope, name) };
      default:
        throw armError(404, "InvalidResourceType", `The resource type could not be found for path '${path}'.`);
    }
  }

  // `scope` and `name` as the caller spelled them in the request path: the event carries that
  // spelling; the stored assignment carries ARM's (see canonicalScope).
  #putAssignment(scope: string, name: string, body: unknown, caller: TokenClaims, requestedId: string, pim?: PimGrant): { created: boolean; assignment: ArmRoleAssignment } {
    const props = (body as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (!props || typeof props.roleDefinitionId !== "string" || typeof props.principalId !== "string") {
      throw armError(400, "InvalidRoleAssignmentRequest", "properties.roleDefinitionId and properties.principalId are required.");
    }
    const guid = props.roleDefinitionId.split("/").pop()?.toLowerCase() ?? "";
    if (!this.state.definitions.has(guid)) throw armError(400, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${guid}' does not exist.`);
    // ARM looks the principal up in the directory unless the caller names its principalType,
    // which is how a principal that has not replicated yet can receive a role.
    const givenType = typeof props.principalType === "string" ? props.principalType : null;
    const principal = this.state.replicating(props.principalId) ? undefined : this.state.principals.get(props.principalId.toLowerCase());
    if (!principal && givenType === null) throw armError(400, "PrincipalNotFound", `Principal ${props.principalId} does not exist in the directory ${this.state.tenantId}. (A principal that has not replicated yet can be assigned by naming its principalType.)`);
    const requested = scope === "" ? "/" : scope;
    const storedScope = this.#canonicalScope(requested);
    const id = `${storedScope === "/" ? "" : storedScope}/providers/Microsoft.Authorization/roleAssignments/${name.toLowerCase()}`;
    const existing = this.state.assignments.get(id.toLowerCase());
    const duplicate = [...this.state.assignments.values()].find(
      (a) => a.id.toLowerCase() !== id.toLowerCase() && a.properties.scope.toLowerCase() === storedScope.toLowerCase() && a.properties.principalId.toLowerCase() === props.principalId!.toString().toLowerCase() && (a.properties.roleDefinitionId.split("/").pop() ?? "").toLowerCase() === guid,
    );
    if (duplicate) throw armError(409, "RoleAssignmentExists", "The role assignment already exists.");
    const now = new Date().toISOString();
    const derivedType = principal?.["@odata.type"] === "#microsoft.graph.user" ? "User" : principal?.["@odata.type"] === "#microsoft.graph.group" ? "Group" : "ServicePrincipal";
    const assignment = armRoleAssignmentSchema.parse({
      id: existing?.id ?? id,
      name: existing?.name ?? name.toLowerCase(),
      type: "Microsoft.Authorization/roleAssignments",
      properties: {
        roleDefinitionId: props.roleDefinitionId,
        principalId: props.principalId,
        principalType: givenType ?? derivedType,
        scope: existing?.properties.scope ?? storedScope,
        condition: props.condition ?? null,
        conditionVersion: props.conditionVersion ?? (props.condition ? "2.0" : null),
        description: props.description ?? null,
        createdOn: existing?.properties.createdOn ?? now,
        updatedOn: now,
        createdBy: existing?.properties.createdBy ?? caller.oid,
        updatedBy: caller.oid,
        delegatedManagedIdentityResourceId: props.delegatedManagedIdentityResourceId ?? null,
      },
    });
    this.state.assignments.set(id.toLowerCase(), assignment);
    if (pim && !existing) this.state.pim?.onPimWrite(assignment, pim);
    else this.state.pim?.onWrite(assignment);
    this.#emit("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Authorization/roleAssignments/write", assignment, requestedId, caller, existing ? "PUT" : null);
    return { created: !existing, assignment };
  }

  // `assignmentId` as the caller spelled it.
  #deleteAssignment(assignmentId: string, caller: TokenClaims): ArmRoleAssignment | undefined {
    const key = assignmentId.toLowerCase();
    const existing = this.state.assignments.get(key);
    if (!existing) return undefined;
    this.state.assignments.delete(key);
    this.state.pim?.onDelete(existing);
    this.#emit("Microsoft.Resources.ResourceDeleteSuccess", "Microsoft.Authorization/roleAssignments/delete", existing, assignmentId, caller, "DELETE");
    return existing;
  }

  // ARM stores an id in its own spelling, whatever the request path said: the scope as the tenant
  // already spells it when some assignment lives there, else with ARM's segment names.
  #canonicalScope(scope: string): string {
    if (scope === "/") return "/";
    const trimmed = scope.replace(/\/+$/, "");
    const known = [...this.state.assignments.values()].find((a) => a.properties.scope.toLowerCase() === trimmed.toLowerCase());
    if (known) return known.properties.scope;
    return trimmed
      .replace(/^\/subscriptions\//i, "/subscriptions/")
      .replace(/^(\/subscriptions\/[^/]+)\/resourcegroups\//i, (_, sub: string) => `${sub.toLowerCase()}/resourceGroups/`)
      .replace(/^\/subscriptions\/[^/]+$/i, (s) => s.toLowerCase())
      .replace(/\/providers\//gi, "/providers/")
      .replace(/^\/providers\/microsoft\.management\/managementgroups\//i, "/providers/Microsoft.Management/managementGroups/");
  }

  #listAssignments(scope: string, filter: string | null): ArmRoleAssignment[] {
    const entries = [...this.state.assignments.values()].map((a) => ({ item: a, scope: a.properties.scope, principalId: a.properties.principalId }));
    return this.#atAboveBelow(scope, parseFilter(filter, ["atScope", "principalId", "assignedTo"]), entries);
  }

  // A snapshot without a PIM section stands for a tenant whose PIM grantguard cannot read; one
  // with instances but no requests, for a caller that may read only the instances.
  #pimInstances(): PimObject[] {
    if (!this.state.pim) throw pimRefused("roleAssignmentScheduleInstances", "the tenant snapshot has no PIM data");
    return this.state.pim.instances;
  }

  #pimRequests(): PimObject[] {
    if (!this.state.pim?.requests) throw pimRefused("roleAssignmentScheduleRequests", "the tenant snapshot has no PIM requests");
    return this.state.pim.requests;
  }

  // The filters each PIM list accepts (RoleAssignmentScheduleInstance.json / RoleAssignmentScheduleRequest.json, 2020-10-01).
  #listPim(kind: "roleAssignmentScheduleInstances" | "roleAssignmentScheduleRequests", items: PimObject[], scope: string, raw: string | null, caller: TokenClaims): PimObject[] {
    const filter = parseFilter(raw, kind === "roleAssignmentScheduleInstances" ? ["atScope", "principalId", "assignedTo", "asTarget"] : ["atScope", "principalId", "asRequestor", "asTarget", "asApprover"]);
    if (filter.kind === "asApprover") return []; // no approvals are modelled: nothing awaits the caller
    const entries = items
      .filter((i) => filter.kind !== "asRequestor" || String(i.properties.requestorId ?? "").toLowerCase() === caller.oid.toLowerCase())
      .map((i) => ({ item: i, scope: i.properties.scope, principalId: i.properties.principalId }));
    return this.#atAboveBelow(scope, filter.kind === "asTarget" ? { kind: "principal", principalId: caller.oid.toLowerCase() } : filter, entries);
  }

  #pimByName(kind: string, items: PimObject[], scope: string, name: string): PimObject {
    const wanted = `${scope === "/" ? "" : scope}/providers/microsoft.authorization/${kind.toLowerCase()}/${name.toLowerCase()}`;
    const found = items.find((i) => i.id.toLowerCase() === wanted);
    if (!found) throw armError(404, "ResourceNotFound", `The ${kind} '${name}' could not be found.`);
    return found;
  }

  // ARM's list semantics for Microsoft.Authorization collections: no filter means at, above and
  // below the scope; atScope() means at and above; a principal filter means that principal's
  // items at, above and below.
  #atAboveBelow<T>(scope: string, filter: ListFilter, entries: { item: T; scope: string; principalId: string }[]): T[] {
    const queryScope = scope === "" ? "/" : scope;
    const above = new Set(this.state.ancestors(queryScope));
    const at = (queryScope === "/" ? "" : queryScope).toLowerCase();
    const below = (entryScope: string) => queryScope === "/" || this.state.ancestors(entryScope).includes(at);
    return entries
      .filter((e) => {
        if (filter.kind === "principal" && e.principalId.toLowerCase() !== filter.principalId) return false;
        const s = e.scope.toLowerCase();
        return above.has(s === "" ? "/" : s) || (filter.kind !== "atScope" && below(e.scope));
      })
      .map((e) => e.item);
  }

  #definitionAt(scope: string, guid: string): unknown {
    const definition = this.state.definitions.get(guid.toLowerCase());
    if (!definition) return undefined;
    if (definition.properties.type !== "BuiltInRole") return definition;
    // ARM answers a built-in role under the scope it was asked at.
    const prefix = scope === "/" || scope === "" ? "" : scope;
    return { ...definition, id: `${prefix}/providers/Microsoft.Authorization/roleDefinitions/${definition.name}` };
  }

  #listDefinitions(scope: string, filter: string | null): unknown[] {
    const above = new Set(this.state.ancestors(scope === "" ? "/" : scope));
    let predicate: (d: { properties: { type: string; roleName: string } }) => boolean = () => true;
    if (filter) {
      const type = /^type eq '([^']+)'$/i.exec(filter.trim());
      const roleName = /^roleName eq '([^']+)'$/i.exec(filter.trim());
      if (type) predicate = (d) => d.properties.type.toLowerCase() === type[1]!.toLowerCase();
      else if (roleName) predicate = (d) => d.properties.roleName.toLowerCase() === roleName[1]!.toLowerCase();
      else throw armError(400, "UnsupportedQuery", `The filter '${filter}' is not supported.`);
    }
    return [...this.state.definitions.values()]
      .filter((d) => d.properties.type === "BuiltInRole" || d.properties.assignableScopes.some((s) => above.has(s.toLowerCase())))
      .filter(predicate)
      .map((d) => this.#definitionAt(scope, d.name));
  }

  #page(url: URL, items: unknown[]): { value: unknown[]; nextLink?: string } {
    const size = this.options.pageSize ?? 100;
    const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
    const value = items.slice(skip, skip + size);
    if (skip + size >= items.length) return { value };
    const next = new URL(url.toString().replace("https://simulator", this.#url));
    next.searchParams.set("$skiptoken", String(skip + size));
    return { value, nextLink: next.toString() };
  }

  // Event Grid has system topics for subscriptions and resource groups only
  // (Microsoft.Resources.Subscriptions / Microsoft.Resources.ResourceGroups): a write at a
  // management group or at the root "/" emits nothing. The event spells the resource as the
  // caller's request path did. `httpRequest` comes only with an update or a delete.
  #emit(eventType: string, operationName: string, assignment: ArmRoleAssignment, requestedId: string, caller: TokenClaims, httpMethod: "PUT" | "DELETE" | null): void {
    const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(assignment.properties.scope)?.[1] ?? null;
    if (subscriptionId === null) return;
    const claims: Record<string, string> = {
      aud: caller.aud,
      iss: caller.iss,
      "http://schemas.microsoft.com/identity/claims/objectidentifier": caller.oid,
      "http://schemas.microsoft.com/identity/claims/tenantid": caller.tid,
      idtyp: caller.idtyp,
      ipaddr: "127.0.0.1",
      ...(caller.appid ? { appid: caller.appid } : {}),
      ...(caller.upn ? { "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": caller.upn } : {}),
      ...(caller.name ? { name: caller.name } : {}),
    };
    const event: ResourceEvent = {
      id: randomUUID(),
      topic: `/subscriptions/${subscriptionId}`,
      subject: requestedId,
      eventType,
      eventTime: new Date().toISOString(),
      dataVersion: "2",
      metadataVersion: "1",
      data: {
        authorization: { scope: requestedId, action: operationName, evidence: { role: "caller's own authorising assignment", principalId: caller.oid } },
        claims,
        correlationId: randomUUID(),
        ...(httpMethod ? { httpRequest: { clientRequestId: randomUUID(), clientIpAddress: "127.0.0.1", method: httpMethod, url: `https://management.azure.com${requestedId}?api-version=2022-04-01` } } : {}),
        operationName,
        resourceProvider: "Microsoft.Authorization",
        resourceUri: requestedId,
        status: "Succeeded",
        subscriptionId,
        tenantId: this.state.tenantId,
      },
    };
    for (const listener of this.#listeners) listener(event);
  }

  // ---- Microsoft Graph v1.0 ------------------------------------------------------------------

  #graph(route: string, req: IncomingMessage, url: URL, path: string, body: unknown): { status: number; body: unknown } {
    this.#authenticate(req, GRAPH_AUDIENCES, "graph");
    const select = parseSelect(url.searchParams.get("$select"));
    if (select !== null && !Array.isArray(select)) throw graphError(400, "BadRequest", select.error);
    if (route === "graph.directoryObjects.getByIds") {
      const ids = (body as { ids?: unknown } | undefined)?.ids;
      const types = (body as { types?: unknown } | undefined)?.types;
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) throw graphError(400, "Request_BadRequest", "ids must be an array of strings.");
      if (ids.length > 1000) throw graphError(400, "Request_BadRequest", "Too many identifiers: at most 1000 are allowed.");
      // Over a directoryObject collection, $select may name the properties of any directory object
      // type (Graph's known issue "incomplete objects when using getByIds" documents exactly that).
      const unknown = select?.find((name) => !declaredByAnyType(name));
      if (unknown) throw graphError(400, "BadRequest", `Could not find a property named '${unknown}' on type 'microsoft.graph.directoryObject'.`);
      const wanted = Array.isArray(types) ? new Set(types.map((t) => `#microsoft.graph.${String(t)}`.toLowerCase())) : null;
      const value = ids
        .map((id: string) => this.state.readPrincipal(id))
        .filter((p): p is NonNullable<typeof p> => p !== undefined && (!wanted || wanted.has(p["@odata.type"].toLowerCase())))
        .map((p) => shapeObject(p, select, { withType: true }));
      return { status: 200, body: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", value } };
    }
    const [, , rawCollection = "", rawId] = path.split("/");
    const collection = rawCollection.toLowerCase();
    const id = decodeURIComponent(rawId ?? "");
    const typeOf: Record<string, string> = { users: "#microsoft.graph.user", groups: "#microsoft.graph.group", serviceprincipals: "#microsoft.graph.servicePrincipal" };
    const expected = typeOf[collection];
    const found = this.state.readPrincipal(id);
    if (!found || (expected && found["@odata.type"] !== expected)) {
      throw graphError(404, "Request_ResourceNotFound", `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    }
    const context = `https://graph.microsoft.com/v1.0/$metadata#${rawCollection}${select ? `(${select.join(",")})` : ""}/$entity`;
    if (expected) {
      // /users/{id}, /groups/{id}, /servicePrincipals/{id}: the type's own properties only.
      const type = graphTypeOf(found);
      const unknown = select?.find((name) => !declaredBy(type, name, found));
      if (unknown) throw graphError(400, "BadRequest", `Could not find a property named '${unknown}' on type 'microsoft.graph.${type}'.`);
      return { status: 200, body: { "@odata.context": context, ...shapeObject(found, select, { withType: false }) } };
    }
    // /directoryObjects/{id} is typed directoryObject (id, deletedDateTime): a derived type's
    // property needs OData's type-cast form, e.g. microsoft.graph.user/userType.
    const names = select?.map((name) => {
      const cast = /^microsoft\.graph\.(user|group|servicePrincipal)\/(.+)$/i.exec(name);
      if (!cast) {
        if (name !== "id" && name !== "deletedDateTime") throw graphError(400, "BadRequest", `Could not find a property named '${name}' on type 'microsoft.graph.directoryObject'.`);
        return name;
      }
      const castType = cast[1]!.toLowerCase() === "serviceprincipal" ? "servicePrincipal" : (cast[1]!.toLowerCase() as "user" | "group");
      if (!declaredBy(castType, cast[2]!)) throw graphError(400, "BadRequest", `Could not find a property named '${cast[2]}' on type 'microsoft.graph.${castType}'.`);
      return castType === graphTypeOf(found) ? cast[2]! : null;
    });
    const shaped = shapeObject(found, names ? names.filter((n): n is string => n !== null) : null, { withType: true });
    return { status: 200, body: { "@odata.context": context, ...shaped } };
  }
}

/** Names a request by the operation it addresses; the fault switch and request log use these names. */
export function routeName(method: string, path: string): string {
  const lower = path.toLowerCase();
  if (lower === "/_simulator/faults" && (method === "POST" || method === "DELETE")) return "simulator.faults";
  if (lower === "/_simulator/requests" && method === "GET") return "simulator.requests";
  if (lower === "/msi/token") return "identity.token";
  const entra = entraRouteName(method, lower);
  if (entra) return entra;
  if (lower.startsWith("/v1.0/")) {
    if (lower === "/v1.0/directoryobjects/getbyids" && method === "POST") return "graph.directoryObjects.getByIds";
    if (/^\/v1\.0\/(directoryobjects|users|groups|serviceprincipals)\/[^/]+$/.test(lower) && method === "GET") return "graph.directoryObjects.get";
    return "unknown";
  }
  for (const [segment, kind] of [[ASSIGNMENTS, "roleAssignments"], [DEFINITIONS, "roleDefinitions"], [SCHEDULE_INSTANCES, "roleAssignmentScheduleInstances"], [SCHEDULE_REQUESTS, "roleAssignmentScheduleRequests"]] as const) {
    const index = lower.lastIndexOf(segment);
    if (index < 0) continue;
    const rest = lower.slice(index + segment.length);
    if (rest === "" || rest === "/") return method === "GET" ? `arm.${kind}.list` : "unknown";
    if (/^\/[^/]+$/.test(rest)) {
      const verb = method === "GET" ? "get" : method === "PUT" ? "create" : method === "DELETE" ? "delete" : null;
      return verb && (kind === "roleAssignments" || verb === "get") ? `arm.${kind}.${verb}` : "unknown";
    }
  }
  return "unknown";
}

function parseFaultRule(body: unknown): FaultRule | string {
  if (typeof body !== "object" || body === null) return "the body must be a JSON object";
  const { route, status, retryAfterSeconds, latencyMs, count } = body as Record<string, unknown>;
  if (typeof route !== "string" || route === "") return "route is required, e.g. \"arm.roleAssignments.get\" or \"arm.*\"";
  const optionalNumber = (value: unknown, name: string, min: number, max: number) =>
    value === undefined || (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) ? null : `${name} must be an integer from ${min} to ${max}`;
  const problem = optionalNumber(status, "status", 400, 599) ?? optionalNumber(retryAfterSeconds, "retryAfterSeconds", 0, 3600) ?? optionalNumber(latencyMs, "latencyMs", 0, 600_000) ?? optionalNumber(count, "count", 1, 1_000_000);
  if (problem) return problem;
  if (status === undefined && latencyMs === undefined) return "give a status, a latencyMs, or both";
  return { route, status: status as number | undefined, retryAfterSeconds: retryAfterSeconds as number | undefined, latencyMs: latencyMs as number | undefined, count: count as number | undefined };
}

/** The id of the assignment `name` at `scope`, in ARM's spelling of the provider segment. */
function assignmentIdAt(scope: string, name: string): string {
  return `${scope === "/" ? "" : scope.replace(/\/+$/, "")}/providers/Microsoft.Authorization/roleAssignments/${name}`;
}

/** A list's $filter, parsed: nothing, atScope(), a principal, or one of PIM's caller-relative functions. */
type ListFilter = { kind: "none" } | { kind: "atScope" } | { kind: "principal"; principalId: string } | { kind: "asTarget" } | { kind: "asRequestor" } | { kind: "asApprover" };
type FilterName = "atScope" | "principalId" | "assignedTo" | "asTarget" | "asRequestor" | "asApprover";

const FILTER_SYNTAX: Record<FilterName, string> = { atScope: "'atScope()'", principalId: "'principalId eq '{value}''", assignedTo: "'assignedTo('{value}')'", asTarget: "'asTarget()'", asRequestor: "'asRequestor()'", asApprover: "'asApprover()'" };

/** Parses the $filter forms a Microsoft.Authorization list accepts; any other is ARM's 400 UnsupportedQuery. */
function parseFilter(raw: string | null, accepted: readonly FilterName[]): ListFilter {
  if (raw === null || raw.trim() === "") return { kind: "none" };
  const f = raw.trim();
  const allowed = (name: FilterName) => accepted.includes(name);
  const principal = (allowed("principalId") ? /^principalId eq '([^']+)'$/i.exec(f) : null) ?? (allowed("assignedTo") ? /^assignedTo\('([^']+)'\)$/i.exec(f) : null);
  if (principal) return { kind: "principal", principalId: principal[1]!.toLowerCase() };
  for (const name of ["atScope", "asTarget", "asRequestor", "asApprover"] as const) {
    if (allowed(name) && new RegExp(`^${name}\\(\\)$`, "i").test(f)) return { kind: name };
  }
  throw armError(400, "UnsupportedQuery", `The filter '${raw}' is not supported. Supported filters are ${accepted.map((n) => FILTER_SYNTAX[n]).join(" or ")}.`);
}

/** ARM's answer to a caller that may not read a PIM collection. */
function pimRefused(kind: string, why: string): HttpError {
  return armError(403, "AuthorizationFailed", `The client does not have authorization to perform action 'Microsoft.Authorization/${kind}/read' (${why}).`);
}

function splitProviderPath(path: string, segment: string): { scope: string; name: string } {
  const index = path.toLowerCase().lastIndexOf(segment);
  const scope = index <= 0 ? "/" : path.slice(0, index);
  const name = decodeURIComponent(path.slice(index + segment.length).replace(/^\//, ""));
  return { scope, name };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 4 * 1024 * 1024) throw new HttpError(413, { error: { code: "RequestEntityTooLarge", message: "The request body is too large." } });
    chunks.push(chunk as Buffer);
  }
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    // OAuth token requests (the local Entra ID's token endpoint) are form-encoded; ARM and Graph take JSON
    // (curl -d labels JSON as a form too, hence JSON first).
    if (req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
    throw new HttpError(400, { error: { code: "InvalidRequestContent", message: "The request content was invalid and could not be deserialized." } });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": randomUUID(), ...headers });
  res.end(payload);
}
