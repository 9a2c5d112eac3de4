import { armCaller, armRouteOf, atAboveBelow, page, parseFilter, splitProviderPath } from "./armRequest.js";
import { armError, type HttpError, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";
import type { TokenClaims } from "./jwt.js";
import type { PimObject } from "./pim.js";
import type { ScopeIndex } from "./scopeIndex.js";

// api-versions ARM serves for PIM's schedule instances and requests (see README.md "api-versions").
const PIM_API_VERSIONS = new Set(["2020-10-01-preview", "2020-10-01", "2024-09-01-preview"]);
const SCHEDULE_INSTANCES = "/providers/microsoft.authorization/roleassignmentscheduleinstances";
const SCHEDULE_REQUESTS = "/providers/microsoft.authorization/roleassignmentschedulerequests";
const KINDS = [[SCHEDULE_INSTANCES, "roleAssignmentScheduleInstances"], [SCHEDULE_REQUESTS, "roleAssignmentScheduleRequests"]] as const;
const READ_ONLY: ReadonlySet<string> = new Set();

type PimKind = (typeof KINDS)[number][1];

/** ARM's PIM reads: roleAssignmentScheduleInstances and roleAssignmentScheduleRequests, get and list. */
export class ArmPim implements SimulatedService {
  constructor(
    private readonly context: SimulatorContext,
    private readonly pageSize: number,
  ) {}

  /** Names a schedule instance or schedule request read; null for any other path. */
  routeOf(method: string, lowerPath: string): string | null {
    return armRouteOf(method, lowerPath, KINDS, READ_ONLY);
  }

  /** Answers a PIM read after checking its token and api-version; 403 when the tenant's PIM cannot be read. */
  handle(request: ServiceRequest): ServiceResponse {
    const { route, url, path } = request;
    const caller = armCaller(this.context, request, PIM_API_VERSIONS);
    const kind: PimKind = route.startsWith("arm.roleAssignmentScheduleInstances.") ? "roleAssignmentScheduleInstances" : "roleAssignmentScheduleRequests";
    const { scope, name } = splitProviderPath(path, kind === "roleAssignmentScheduleInstances" ? SCHEDULE_INSTANCES : SCHEDULE_REQUESTS);
    const filter = url.searchParams.get("$filter");
    switch (route) {
      case "arm.roleAssignmentScheduleInstances.list":
        return { status: 200, body: page(this.context, url, this.#list(kind, this.#instances(), scope, filter, caller), this.pageSize) };
      case "arm.roleAssignmentScheduleInstances.get":
        return { status: 200, body: this.#byName(kind, this.#instances().items, scope, name) };
      case "arm.roleAssignmentScheduleRequests.list":
        return { status: 200, body: page(this.context, url, this.#list(kind, this.#requests(), scope, filter, caller), this.pageSize) };
      case "arm.roleAssignmentScheduleRequests.get":
        return { status: 200, body: this.#byName(kind, this.#requests().items, scope, name) };
      default:
        throw armError(404, "InvalidResourceType", `The resource type could not be found for path '${path}'.`);
    }
  }

  // A snapshot without a PIM section stands for a tenant whose PIM grantguard cannot read; one
  // with instances but no requests, for a caller that may read only the instances.
  #instances(): { readonly items: PimObject[]; readonly index: ScopeIndex<PimObject> } {
    const pim = this.context.state().pim;
    if (!pim) throw refused("roleAssignmentScheduleInstances", "the tenant snapshot has no PIM data");
    return { items: pim.instances, index: pim.instanceIndex };
  }

  #requests(): { readonly items: PimObject[]; readonly index: ScopeIndex<PimObject> } {
    const pim = this.context.state().pim;
    if (!pim?.requests) throw refused("roleAssignmentScheduleRequests", "the tenant snapshot has no PIM requests");
    return { items: pim.requests, index: pim.requestIndex };
  }

  // The filters each PIM list accepts (RoleAssignmentScheduleInstance.json / RoleAssignmentScheduleRequest.json, 2020-10-01).
  #list(kind: PimKind, collection: { readonly index: ScopeIndex<PimObject> }, scope: string, raw: string | null, caller: TokenClaims): PimObject[] {
    const filter = parseFilter(raw, kind === "roleAssignmentScheduleInstances" ? ["atScope", "principalId", "assignedTo", "asTarget"] : ["atScope", "principalId", "asRequestor", "asTarget", "asApprover"]);
    if (filter.kind === "asApprover") return []; // no approvals are modelled: nothing awaits the caller
    const listed = atAboveBelow(this.context.state(), scope, filter.kind === "asTarget" ? { kind: "principal", principalId: caller.oid.toLowerCase() } : filter, collection.index, (i) => i.properties.principalId);
    return filter.kind === "asRequestor" ? listed.filter((i) => String(i.properties.requestorId ?? "").toLowerCase() === caller.oid.toLowerCase()) : listed;
  }

  #byName(kind: PimKind, items: PimObject[], scope: string, name: string): PimObject {
    const wanted = `${scope === "/" ? "" : scope}/providers/microsoft.authorization/${kind.toLowerCase()}/${name.toLowerCase()}`;
    const found = items.find((i) => i.id.toLowerCase() === wanted);
    if (!found) throw armError(404, "ResourceNotFound", `The ${kind} '${name}' could not be found.`);
    return found;
  }
}

/** ARM's answer to a caller that may not read a PIM collection. */
function refused(kind: PimKind, why: string): HttpError {
  return armError(403, "AuthorizationFailed", `The client does not have authorization to perform action 'Microsoft.Authorization/${kind}/read' (${why}).`);
}
