import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { armCaller } from "./armRequest.js";
import { resourcesOfType } from "./deployedResources.js";
import { armError, UNKNOWN_ROUTE, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";

// Microsoft.Web's "list application settings" action (azure-rest-api-specs
// specification/web/resource-manager/Microsoft.Web/stable/2024-04-01/WebApps.json,
// WebApps_ListApplicationSettings: POST {site}/config/appsettings/list → StringDictionary
// { id, name: "appsettings", type: "Microsoft.Web/sites/config", properties: { NAME: value } }).
// Values come back as configured: a Key Vault reference is its `@Microsoft.KeyVault(...)` text.

const WEB_API_VERSIONS = new Set(["2022-03-01", "2022-09-01", "2023-01-01", "2023-12-01", "2024-04-01"]);
const LIST = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.web\/sites\/([^/]+)\/config\/appsettings\/list$/;

/** A function app's settings, from the snapshot's `Microsoft.Web/sites/config` resources named appsettings. */
export class WebApps implements SimulatedService {
  constructor(
    private readonly context: SimulatorContext,
    private readonly snapshot: () => TenantSnapshot,
  ) {}

  /** "web.appSettings.list" for POST …/sites/{name}/config/appsettings/list; any other Microsoft.Web path is unknown. */
  routeOf(method: string, lowerPath: string): string | null {
    if (!lowerPath.includes("/providers/microsoft.web/")) return null;
    return method === "POST" && LIST.test(lowerPath) ? "web.appSettings.list" : UNKNOWN_ROUTE;
  }

  /** The site's settings; 404 when the site is not in the snapshot. */
  handle(request: ServiceRequest): ServiceResponse {
    armCaller(this.context, request, WEB_API_VERSIONS);
    const [, , group = "", name = ""] = LIST.exec(request.path.toLowerCase()) ?? [];
    const siteId = request.path.replace(/\/config\/appsettings\/list$/i, "");
    const snapshot = this.snapshot();
    const site = resourcesOfType(snapshot, "Microsoft.Web/sites").find((r) => r.id.toLowerCase() === siteId.toLowerCase());
    if (!site) throw armError(404, "ResourceNotFound", `The Resource 'Microsoft.Web/sites/${name}' under resource group '${group}' was not found.`);
    const settings = resourcesOfType(snapshot, "Microsoft.Web/sites/config").find((r) => r.id.toLowerCase() === `${site.id}/config/appsettings`.toLowerCase());
    const properties = settings && typeof settings.properties === "object" && settings.properties !== null ? settings.properties : {};
    return { status: 200, body: { id: `${site.id}/config/appsettings`, name: "appsettings", type: "Microsoft.Web/sites/config", location: site.location ?? null, properties } };
  }
}
