import { declaredBy, declaredByAnyType, graphTypeOf, parseSelect, shapeObject } from "./graphObjects.js";
import { graphError, UNKNOWN_ROUTE, type Refusal, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";

/** The audiences Graph accepts a token for: its URI and its application id. */
const GRAPH_AUDIENCES = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];

/** Graph's 401: always InvalidAuthenticationToken, in Graph's error shape. */
const refuse: Refusal = (reason) => graphError(401, "InvalidAuthenticationToken", reason);

/** Microsoft Graph v1.0's directory objects: get by id (typed or as directoryObject) and getByIds. */
export class GraphService implements SimulatedService {
  constructor(private readonly context: SimulatorContext) {}

  /** Names a /v1.0/ request; any other /v1.0/ path is UNKNOWN_ROUTE, whatever ARM segment it may hold. */
  routeOf(method: string, lowerPath: string): string | null {
    if (!lowerPath.startsWith("/v1.0/")) return null;
    if (lowerPath === "/v1.0/directoryobjects/getbyids" && method === "POST") return "graph.directoryObjects.getByIds";
    if (/^\/v1\.0\/(directoryobjects|users|groups|serviceprincipals)\/[^/]+$/.test(lowerPath) && method === "GET") return "graph.directoryObjects.get";
    return UNKNOWN_ROUTE;
  }

  /** Answers a Graph request after checking its token and its $select. */
  handle({ route, req, url, path, body }: ServiceRequest): ServiceResponse {
    this.context.authenticate(req, GRAPH_AUDIENCES, refuse);
    const state = this.context.state();
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
        .map((id: string) => state.readPrincipal(id))
        .filter((p): p is NonNullable<typeof p> => p !== undefined && (!wanted || wanted.has(p["@odata.type"].toLowerCase())))
        .map((p) => shapeObject(p, select, { withType: true }));
      return { status: 200, body: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", value } };
    }
    const [, , rawCollection = "", rawId] = path.split("/");
    const collection = rawCollection.toLowerCase();
    const id = decodeURIComponent(rawId ?? "");
    const typeOf: Record<string, string> = { users: "#microsoft.graph.user", groups: "#microsoft.graph.group", serviceprincipals: "#microsoft.graph.servicePrincipal" };
    const expected = typeOf[collection];
    const found = state.readPrincipal(id);
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
