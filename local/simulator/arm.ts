import { armRoleAssignmentSchema, type ArmRoleAssignment } from "../../shared/model/azure.js";
import { armCaller, armRouteOf, atAboveBelow, page, parseFilter, splitProviderPath } from "./armRequest.js";
import type { ResourceEvents } from "./events.js";
import { armError, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";
import type { TokenClaims } from "./jwt.js";
import type { PimGrant } from "./pim.js";

// api-versions ARM serves for role assignments and definitions (the version folders of
// azure-rest-api-specs specification/authorization/resource-manager/Microsoft.Authorization that define them).
const AUTHORIZATION_API_VERSIONS = new Set(["2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-04-01-preview", "2020-10-01", "2020-10-01-preview", "2022-04-01", "2022-05-01-preview"]);
const ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments";
const DEFINITIONS = "/providers/microsoft.authorization/roledefinitions";
const KINDS = [[ASSIGNMENTS, "roleAssignments"], [DEFINITIONS, "roleDefinitions"]] as const;
const WRITABLE: ReadonlySet<string> = new Set(["roleAssignments"]);

/** The id of the assignment `name` at `scope`, in ARM's spelling of the provider segment. */
export function assignmentIdAt(scope: string, name: string): string {
  return `${scope === "/" ? "" : scope.replace(/\/+$/, "")}/providers/Microsoft.Authorization/roleAssignments/${name}`;
}

/** The scope and name of a role assignment's id (or request path), as spelled there. */
export function splitAssignmentId(id: string): { scope: string; name: string } {
  return splitProviderPath(id, ASSIGNMENTS);
}

/**
 * ARM's Microsoft.Authorization role assignments (get, list, create, delete) and role definitions
 * (get, list). Every successful write or delete emits its Event Grid event.
 */
export class ArmAuthorization implements SimulatedService {
  constructor(
    private readonly context: SimulatorContext,
    private readonly events: ResourceEvents,
    private readonly pageSize: number,
  ) {}

  /** Names a roleAssignments or roleDefinitions request; null for any other path. */
  routeOf(method: string, lowerPath: string): string | null {
    return armRouteOf(method, lowerPath, KINDS, WRITABLE);
  }

  /** Answers a role assignment or role definition request after checking its token and api-version. */
  handle(request: ServiceRequest): ServiceResponse {
    const { route, url, path, body } = request;
    const caller = armCaller(this.context, request, AUTHORIZATION_API_VERSIONS);
    const { scope, name } = splitProviderPath(path, route.startsWith("arm.roleAssignments.") ? ASSIGNMENTS : DEFINITIONS);
    const filter = url.searchParams.get("$filter");
    switch (route) {
      case "arm.roleAssignments.get": {
        const found = this.context.state().assignments.get(`${scope === "/" ? "" : scope}${ASSIGNMENTS}/${name}`.toLowerCase());
        if (!found) throw armError(404, "RoleAssignmentNotFound", `The role assignment '${name}' is not found.`);
        return { status: 200, body: found };
      }
      case "arm.roleAssignments.create": {
        const result = this.putAssignment(scope, name, body, caller, path);
        return { status: result.created ? 201 : 200, body: result.assignment };
      }
      case "arm.roleAssignments.delete": {
        const deleted = this.deleteAssignment(`${scope === "/" ? "" : scope}${ASSIGNMENTS}/${name}`, caller);
        return deleted ? { status: 200, body: deleted } : { status: 204, body: undefined };
      }
      case "arm.roleAssignments.list":
        return { status: 200, body: page(this.context, url, this.#listAssignments(scope, filter), this.pageSize) };
      case "arm.roleDefinitions.get": {
        const found = this.#definitionAt(scope, name);
        if (!found) throw armError(404, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${name}' does not exist.`);
        return { status: 200, body: found };
      }
      case "arm.roleDefinitions.list":
        return { status: 200, body: page(this.context, url, this.#listDefinitions(scope, filter), this.pageSize) };
      default:
        throw armError(404, "InvalidResourceType", `The resource type could not be found for path '${path}'.`);
    }
  }

  /**
   * Creates or updates an assignment as `caller` (PUT), and emits its event. `scope` and `name`
   * as the caller spelled them in the request path: the event carries that spelling; the stored
   * assignment carries ARM's (see canonicalScope). `pim`: PIM made it (its request and instance
   * are recorded instead of a mirror).
   */
  putAssignment(scope: string, name: string, body: unknown, caller: TokenClaims, requestedId: string, pim?: PimGrant): { created: boolean; assignment: ArmRoleAssignment } {
    const state = this.context.state();
    const props = (body as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (!props || typeof props.roleDefinitionId !== "string" || typeof props.principalId !== "string") {
      throw armError(400, "InvalidRoleAssignmentRequest", "properties.roleDefinitionId and properties.principalId are required.");
    }
    const guid = props.roleDefinitionId.split("/").pop()?.toLowerCase() ?? "";
    if (!state.definitions.has(guid)) throw armError(400, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${guid}' does not exist.`);
    // ARM looks the principal up in the directory unless the caller names its principalType,
    // which is how a principal that has not replicated yet can receive a role.
    const givenType = typeof props.principalType === "string" ? props.principalType : null;
    const principal = state.replicating(props.principalId) ? undefined : state.principals.get(props.principalId.toLowerCase());
    if (!principal && givenType === null) throw armError(400, "PrincipalNotFound", `Principal ${props.principalId} does not exist in the directory ${state.tenantId}. (A principal that has not replicated yet can be assigned by naming its principalType.)`);
    const requested = scope === "" ? "/" : scope;
    const storedScope = this.#canonicalScope(requested);
    const id = `${storedScope === "/" ? "" : storedScope}/providers/Microsoft.Authorization/roleAssignments/${name.toLowerCase()}`;
    const existing = state.assignments.get(id.toLowerCase());
    const duplicate = state.assignments.index.atScope(storedScope).find(
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
    state.assignments.set(id.toLowerCase(), assignment);
    if (pim && !existing) state.pim?.onPimWrite(assignment, pim);
    else state.pim?.onWrite(assignment);
    this.events.assignmentChanged({
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      operationName: "Microsoft.Authorization/roleAssignments/write",
      assignment,
      requestedId,
      caller,
      httpMethod: existing ? "PUT" : null,
      tenantId: state.tenantId,
    });
    return { created: !existing, assignment };
  }

  /** Deletes an assignment as `caller`, emitting its event; undefined when there was none. `assignmentId` as the caller spelled it. */
  deleteAssignment(assignmentId: string, caller: TokenClaims): ArmRoleAssignment | undefined {
    const state = this.context.state();
    const key = assignmentId.toLowerCase();
    const existing = state.assignments.get(key);
    if (!existing) return undefined;
    state.assignments.delete(key);
    state.pim?.onDelete(existing);
    this.events.assignmentChanged({
      eventType: "Microsoft.Resources.ResourceDeleteSuccess",
      operationName: "Microsoft.Authorization/roleAssignments/delete",
      assignment: existing,
      requestedId: assignmentId,
      caller,
      httpMethod: "DELETE",
      tenantId: state.tenantId,
    });
    return existing;
  }

  // ARM stores an id in its own spelling, whatever the request path said: the scope as the tenant
  // already spells it when some assignment lives there, else with ARM's segment names.
  #canonicalScope(scope: string): string {
    if (scope === "/") return "/";
    const trimmed = scope.replace(/\/+$/, "");
    const known = this.context.state().assignments.index.atScope(trimmed).find((a) => a.properties.scope.toLowerCase() === trimmed.toLowerCase());
    if (known) return known.properties.scope;
    return trimmed
      .replace(/^\/subscriptions\//i, "/subscriptions/")
      .replace(/^(\/subscriptions\/[^/]+)\/resourcegroups\//i, (_, sub: string) => `${sub.toLowerCase()}/resourceGroups/`)
      .replace(/^\/subscriptions\/[^/]+$/i, (s) => s.toLowerCase())
      .replace(/\/providers\//gi, "/providers/")
      .replace(/^\/providers\/microsoft\.management\/managementgroups\//i, "/providers/Microsoft.Management/managementGroups/");
  }

  #listAssignments(scope: string, filter: string | null): ArmRoleAssignment[] {
    const state = this.context.state();
    return atAboveBelow(state, scope, parseFilter(filter, ["atScope", "principalId", "assignedTo"]), state.assignments.index, (a) => a.properties.principalId);
  }

  #definitionAt(scope: string, guid: string): unknown {
    const definition = this.context.state().definitions.get(guid.toLowerCase());
    if (!definition) return undefined;
    if (definition.properties.type !== "BuiltInRole") return definition;
    // ARM answers a built-in role under the scope it was asked at.
    const prefix = scope === "/" || scope === "" ? "" : scope;
    return { ...definition, id: `${prefix}/providers/Microsoft.Authorization/roleDefinitions/${definition.name}` };
  }

  #listDefinitions(scope: string, filter: string | null): unknown[] {
    const state = this.context.state();
    const above = new Set(state.ancestors(scope === "" ? "/" : scope));
    let predicate: (d: { properties: { type: string; roleName: string } }) => boolean = () => true;
    if (filter) {
      const type = /^type eq '([^']+)'$/i.exec(filter.trim());
      const roleName = /^roleName eq '([^']+)'$/i.exec(filter.trim());
      if (type) predicate = (d) => d.properties.type.toLowerCase() === type[1]!.toLowerCase();
      else if (roleName) predicate = (d) => d.properties.roleName.toLowerCase() === roleName[1]!.toLowerCase();
      else throw armError(400, "UnsupportedQuery", `The filter '${filter}' is not supported.`);
    }
    return [...state.definitions.values()]
      .filter((d) => d.properties.type === "BuiltInRole" || d.properties.assignableScopes.some((s) => above.has(s.toLowerCase())))
      .filter(predicate)
      .map((d) => this.#definitionAt(scope, d.name));
  }
}
