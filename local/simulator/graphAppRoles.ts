import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { parseSelect, shapeObject } from "./graphObjects.js";
import { graphError, type Refusal, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";

// Two Microsoft Graph v1.0 reads about service principals that the directory-object service does
// not serve: a service principal by its application id (the alternate key,
// graph-docs api-reference/v1.0/api/serviceprincipal-get.md: `GET /servicePrincipals(appId='{appId}')`)
// and the app roles granted to one (api/serviceprincipal-list-approleassignments.md:
// `GET /servicePrincipals/{id}/appRoleAssignments`, appRoleAssignment objects of
// resources/approleassignment.md). The grants come from the snapshot's optional
// `appRoleAssignments` section, each object as Graph returns it.

const GRAPH_AUDIENCES = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];
const refuse: Refusal = (reason) => graphError(401, "InvalidAuthenticationToken", reason);
const BY_APP_ID = /^\/v1\.0\/serviceprincipals\(appid='([^']+)'\)$/;
const APP_ROLES = /^\/v1\.0\/serviceprincipals\/([^/]+)\/approleassignments$/;

/** The path with %-escapes decoded; null when they are malformed (then not ours: the directory-object service answers 400/404). */
function decoded(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

/** Graph's service principal by appId and its appRoleAssignments. Registered before the directory-object service, which names every other /v1.0/ path. */
export class GraphAppRoles implements SimulatedService {
  constructor(
    private readonly context: SimulatorContext,
    private readonly snapshot: () => TenantSnapshot,
  ) {}

  /** The two GET routes; null for anything else (the directory-object service names it). */
  routeOf(method: string, lowerPath: string): string | null {
    if (method !== "GET") return null;
    const path = decoded(lowerPath);
    if (path === null) return null;
    if (BY_APP_ID.test(path)) return "graph.servicePrincipals.getByAppId";
    if (APP_ROLES.test(path)) return "graph.servicePrincipals.appRoleAssignments";
    return null;
  }

  /** Answers after the Graph token check. */
  handle({ route, req, url, path }: ServiceRequest): ServiceResponse {
    this.context.authenticate(req, GRAPH_AUDIENCES, refuse);
    const state = this.context.state();
    const lower = (decoded(path) ?? "").toLowerCase();
    const notFound = (id: string) => graphError(404, "Request_ResourceNotFound", `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    if (route === "graph.servicePrincipals.getByAppId") {
      const appId = BY_APP_ID.exec(lower)?.[1] ?? "";
      const found = [...state.principals.values()].find((p) => p["@odata.type"] === "#microsoft.graph.servicePrincipal" && p.appId?.toLowerCase() === appId);
      if (!found || !state.readPrincipal(found.id)) throw notFound(appId);
      const select = parseSelect(url.searchParams.get("$select"));
      if (select !== null && !Array.isArray(select)) throw graphError(400, "BadRequest", select.error);
      return { status: 200, body: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity", ...shapeObject(found, select, { withType: false }) } };
    }
    const id = APP_ROLES.exec(lower)?.[1] ?? "";
    const principal = state.readPrincipal(id);
    if (!principal || principal["@odata.type"] !== "#microsoft.graph.servicePrincipal") throw notFound(id);
    const section = (this.snapshot() as { appRoleAssignments?: unknown }).appRoleAssignments;
    const all = Array.isArray(section) ? (section as Array<Record<string, unknown>>) : [];
    const value = all.filter((a) => typeof a.principalId === "string" && a.principalId.toLowerCase() === id).map((a) => structuredClone(a));
    return { status: 200, body: { "@odata.context": `https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('${id}')/appRoleAssignments`, value } };
  }
}
