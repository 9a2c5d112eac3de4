import { randomUUID } from "node:crypto";
import { closeServer, listenOnLoopback } from "../listen.js";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { armRoleAssignmentSchema, type ArmRoleAssignment } from "../../shared/model/azure.js";
import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { FaultSwitch, type FaultRule } from "./faults.js";
import { SimulatedEntra, entraRouteName } from "./entra.js";
import type { SigningKey, TokenClaims, TokenIssuer } from "./jwt.js";
import { TenantState } from "./tenant.js";

const AUTHORIZATION_API_VERSIONS = new Set(["2015-07-01", "2018-01-01-preview", "2020-04-01-preview", "2020-10-01", "2020-10-01-preview", "2022-04-01", "2022-05-01-preview"]);
const ARM_AUDIENCES = ["https://management.azure.com", "https://management.core.windows.net"];
const GRAPH_AUDIENCES = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];
const ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments";
const DEFINITIONS = "/providers/microsoft.authorization/roledefinitions";
const SCHEDULE_INSTANCES = "/providers/microsoft.authorization/roleassignmentscheduleinstances";

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
   * demos and tests make a grant "appear" with a chosen granter.
   */
  grant(input: { scope: string; name?: string; roleDefinitionId: string; principalId: string; principalType?: string; condition?: string; conditionVersion?: string; description?: string }, callerId: string): ArmRoleAssignment {
    const name = input.name ?? randomUUID();
    const { assignment } = this.#putAssignment(input.scope, name, { properties: input }, this.#claimsFor(callerId, null));
    return assignment;
  }

  /** Deletes a role assignment as `callerId` would, emitting its event; false when it did not exist. */
  revoke(assignmentId: string, callerId: string): boolean {
    return this.#deleteAssignment(assignmentId, this.#claimsFor(callerId, null)) !== undefined;
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
    if (route.startsWith("graph.")) return this.#graph(route, req, path, body);
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
        (p) => p["@odata.type"] === "#microsoft.graph.servicePrincipal" && (p.appId === clientId || p.id === principalId),
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
    if (!AUTHORIZATION_API_VERSIONS.has(apiVersion)) {
      throw armError(400, "InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid. The supported versions are '${[...AUTHORIZATION_API_VERSIONS].join(",")}'.`);
    }
    const lower = path.toLowerCase();
    const { scope, name } = splitProviderPath(path, lower.includes(ASSIGNMENTS) ? ASSIGNMENTS : lower.includes(SCHEDULE_INSTANCES) ? SCHEDULE_INSTANCES : DEFINITIONS);
    switch (route) {
      case "arm.roleAssignments.get": {
        const found = this.state.assignments.get(`${scope === "/" ? "" : scope}${ASSIGNMENTS}/${name}`.toLowerCase());
        if (!found) throw armError(404, "RoleAssignmentNotFound", `The role assignment '${name}' is not found.`);
        return { status: 200, body: found };
      }
      case "arm.roleAssignments.create": {
        const result = this.#putAssignment(scope, name, body, caller);
        return { status: result.created ? 201 : 200, body: result.assignment };
      }
      case "arm.roleAssignments.delete": {
        const deleted = this.#deleteAssignment(`${scope === "/" ? "" : scope}${ASSIGNMENTS}/${name}`, caller);
        return deleted ? { status: 200, body: deleted } : { status: 204, body: undefined };
      }
      case "arm.roleAssignments.list":
        return { status: 200, body: this.#page(url, this.#listAssignments(scope, url.searchParams.get("$filter"))) };
      case "arm.roleDefinitions.get": {
        const found = this.#definitionAt(scope, name);
        if (!found) throw armError(404, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${name}' does not exist.`);
        return { status: 200, body: found };
      }
      case "arm.roleAssignmentScheduleInstances.list":
        return { status: 200, body: this.#page(url, this.#listScheduleInstances(scope, url.searchParams.get("$filter"))) };
      case "arm.roleDefinitions.list":
        return { status: 200, body: this.#page(url, this.#listDefinitions(scope, url.searchParams.get("$filter"))) };
      default:
        throw armError(404, "InvalidResourceType", `The resource type could not be found for path '${path}'.`);
    }
  }

  #putAssignment(scope: string, name: string, body: unknown, caller: TokenClaims): { created: boolean; assignment: ArmRoleAssignment } {
    const props = (body as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (!props || typeof props.roleDefinitionId !== "string" || typeof props.principalId !== "string") {
      throw armError(400, "InvalidRoleAssignmentRequest", "properties.roleDefinitionId and properties.principalId are required.");
    }
    const guid = props.roleDefinitionId.split("/").pop()?.toLowerCase() ?? "";
    if (!this.state.definitions.has(guid)) throw armError(400, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${guid}' does not exist.`);
    const principal = this.state.principals.get(props.principalId.toLowerCase());
    if (!principal) throw armError(400, "PrincipalNotFound", `Principal ${props.principalId} does not exist in the directory ${this.state.tenantId}.`);
    const normalizedScope = scope === "" ? "/" : scope;
    const id = `${normalizedScope === "/" ? "" : normalizedScope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    const existing = this.state.assignments.get(id.toLowerCase());
    const duplicate = [...this.state.assignments.values()].find(
      (a) => a.id.toLowerCase() !== id.toLowerCase() && a.properties.scope.toLowerCase() === normalizedScope.toLowerCase() && a.properties.principalId.toLowerCase() === props.principalId!.toString().toLowerCase() && (a.properties.roleDefinitionId.split("/").pop() ?? "").toLowerCase() === guid,
    );
    if (duplicate) throw armError(409, "RoleAssignmentExists", "The role assignment already exists.");
    const now = new Date().toISOString();
    const principalType = principal["@odata.type"] === "#microsoft.graph.user" ? "User" : principal["@odata.type"] === "#microsoft.graph.group" ? "Group" : "ServicePrincipal";
    const assignment = armRoleAssignmentSchema.parse({
      id,
      name,
      type: "Microsoft.Authorization/roleAssignments",
      properties: {
        roleDefinitionId: props.roleDefinitionId,
        principalId: props.principalId,
        principalType: typeof props.principalType === "string" ? props.principalType : principalType,
        scope: normalizedScope,
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
    this.#emit("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Authorization/roleAssignments/write", assignment, caller);
    return { created: !existing, assignment };
  }

  #deleteAssignment(assignmentId: string, caller: TokenClaims): ArmRoleAssignment | undefined {
    const key = assignmentId.toLowerCase();
    const existing = this.state.assignments.get(key);
    if (!existing) return undefined;
    this.state.assignments.delete(key);
    this.#emit("Microsoft.Resources.ResourceDeleteSuccess", "Microsoft.Authorization/roleAssignments/delete", existing, caller);
    return existing;
  }

  #listAssignments(scope: string, filter: string | null): ArmRoleAssignment[] {
    return this.#atAboveBelow(scope, filter, [...this.state.assignments.values()].map((a) => ({ item: a, scope: a.properties.scope, principalId: a.properties.principalId })));
  }

  #listScheduleInstances(scope: string, filter: string | null): unknown[] {
    // A snapshot without PIM data stands for a tenant whose PIM grantguard cannot read.
    if (this.state.scheduleInstances === null) throw armError(403, "AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.Authorization/roleAssignmentScheduleInstances/read' (the tenant snapshot has no PIM data).");
    return this.#atAboveBelow(scope, filter, this.state.scheduleInstances.map((i) => ({ item: i, scope: i.properties.scope, principalId: i.properties.principalId })));
  }

  // ARM's list semantics for Microsoft.Authorization collections: no filter means at, above and
  // below the scope; atScope() means at and above; principalId eq / assignedTo() filter by principal.
  #atAboveBelow<T>(scope: string, filter: string | null, entries: { item: T; scope: string; principalId: string }[]): T[] {
    const queryScope = scope === "" ? "/" : scope;
    const above = new Set(this.state.ancestors(queryScope));
    const at = (queryScope === "/" ? "" : queryScope).toLowerCase();
    const below = (entryScope: string) => queryScope === "/" || this.state.ancestors(entryScope).includes(at);
    let principalId: string | null = null;
    let atScopeOnly = false;
    if (filter) {
      const f = filter.trim();
      const principal = /^principalId eq '([^']+)'$/i.exec(f) ?? /^assignedTo\('([^']+)'\)$/i.exec(f);
      if (/^atScope\(\)$/i.test(f)) atScopeOnly = true;
      else if (principal) principalId = principal[1]!.toLowerCase();
      else throw armError(400, "UnsupportedQuery", `The filter '${filter}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{value}'' or 'assignedTo('{value}')'.`);
    }
    return entries
      .filter((e) => {
        if (principalId && e.principalId.toLowerCase() !== principalId) return false;
        const s = e.scope.toLowerCase();
        return above.has(s === "" ? "/" : s) || (!atScopeOnly && below(e.scope));
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

  #emit(eventType: string, operationName: string, assignment: ArmRoleAssignment, caller: TokenClaims): void {
    const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(assignment.properties.scope)?.[1] ?? null;
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
      topic: subscriptionId ? `/subscriptions/${subscriptionId}` : `/tenants/${this.state.tenantId}`,
      subject: assignment.id,
      eventType,
      eventTime: new Date().toISOString(),
      dataVersion: "2",
      metadataVersion: "1",
      data: {
        authorization: { scope: assignment.id, action: operationName, evidence: { role: "caller's own authorising assignment", principalId: caller.oid } },
        claims,
        correlationId: randomUUID(),
        operationName,
        resourceProvider: "Microsoft.Authorization",
        resourceUri: assignment.id,
        status: "Succeeded",
        subscriptionId,
        tenantId: this.state.tenantId,
      },
    };
    for (const listener of this.#listeners) listener(event);
  }

  // ---- Microsoft Graph v1.0 ------------------------------------------------------------------

  #graph(route: string, req: IncomingMessage, path: string, body: unknown): { status: number; body: unknown } {
    this.#authenticate(req, GRAPH_AUDIENCES, "graph");
    if (route === "graph.directoryObjects.getByIds") {
      const ids = (body as { ids?: unknown }).ids;
      const types = (body as { types?: unknown }).types;
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) throw graphError(400, "Request_BadRequest", "ids must be an array of strings.");
      if (ids.length > 1000) throw graphError(400, "Request_BadRequest", "Too many identifiers: at most 1000 are allowed.");
      const wanted = Array.isArray(types) ? new Set(types.map((t) => `#microsoft.graph.${String(t)}`.toLowerCase())) : null;
      const value = ids
        .map((id: string) => this.state.principals.get(id.toLowerCase()))
        .filter((p): p is NonNullable<typeof p> => p !== undefined && (!wanted || wanted.has(p["@odata.type"].toLowerCase())));
      return { status: 200, body: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", value } };
    }
    const [, , collection, id] = path.split("/");
    const found = id ? this.state.principals.get(decodeURIComponent(id).toLowerCase()) : undefined;
    const typeOf: Record<string, string> = { users: "#microsoft.graph.user", groups: "#microsoft.graph.group", servicePrincipals: "#microsoft.graph.servicePrincipal" };
    const expected = collection ? typeOf[collection] : undefined;
    if (!found || (expected && found["@odata.type"] !== expected)) {
      throw graphError(404, "Request_ResourceNotFound", `Resource '${id ?? ""}' does not exist or one of its queried reference-property objects are not present.`);
    }
    return { status: 200, body: { "@odata.context": `https://graph.microsoft.com/v1.0/$metadata#${collection}/$entity`, ...found } };
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
  for (const [segment, kind] of [[ASSIGNMENTS, "roleAssignments"], [DEFINITIONS, "roleDefinitions"], [SCHEDULE_INSTANCES, "roleAssignmentScheduleInstances"]] as const) {
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
