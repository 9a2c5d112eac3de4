import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { armCaller } from "./armRequest.js";
import { requireResourceGroup, resourcesOfType, type DeployedResource } from "./deployedResources.js";
import { armError, UNKNOWN_ROUTE, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";

// Microsoft.EventGrid's management plane, read-only: system topics (by subscription, by resource
// group, by name) and the event subscriptions of a system topic (azure-rest-api-specs
// specification/eventgrid/resource-manager/Microsoft.EventGrid/stable/2025-02-15/EventGrid.json;
// examples SystemTopics_ListByResourceGroup.json and SystemTopicEventSubscriptions_*).

// The stable api-versions of Microsoft.EventGrid that define system topics (stricter to leave previews out).
const EVENT_GRID_API_VERSIONS = new Set(["2020-06-01", "2021-12-01", "2022-06-15", "2025-02-15"]);
const PROVIDER = "/providers/microsoft.eventgrid/systemtopics";
const SUBSCRIPTION = "([^/]+)";
const ROUTES: ReadonlyArray<readonly [RegExp, string]> = [
  [new RegExp(`^/subscriptions/${SUBSCRIPTION}${PROVIDER}$`), "eventGrid.systemTopics.listBySubscription"],
  [new RegExp(`^/subscriptions/${SUBSCRIPTION}/resourcegroups/([^/]+)${PROVIDER}$`), "eventGrid.systemTopics.listByResourceGroup"],
  [new RegExp(`^/subscriptions/${SUBSCRIPTION}/resourcegroups/([^/]+)${PROVIDER}/([^/]+)$`), "eventGrid.systemTopics.get"],
  [new RegExp(`^/subscriptions/${SUBSCRIPTION}/resourcegroups/([^/]+)${PROVIDER}/([^/]+)/eventsubscriptions$`), "eventGrid.eventSubscriptions.list"],
  [new RegExp(`^/subscriptions/${SUBSCRIPTION}/resourcegroups/([^/]+)${PROVIDER}/([^/]+)/eventsubscriptions/([^/]+)$`), "eventGrid.eventSubscriptions.get"],
];

/** Event Grid system topics and their event subscriptions, from the snapshot's `resources`. */
export class EventGridManagement implements SimulatedService {
  constructor(
    private readonly context: SimulatorContext,
    private readonly snapshot: () => TenantSnapshot,
  ) {}

  /** Names a GET under Microsoft.EventGrid/systemTopics; another method there is UNKNOWN_ROUTE's 404 (this slice is read-only). */
  routeOf(method: string, lowerPath: string): string | null {
    if (!lowerPath.includes(PROVIDER)) return null;
    const route = ROUTES.find(([re]) => re.test(lowerPath));
    return route && method === "GET" ? route[1] : UNKNOWN_ROUTE;
  }

  /** Answers after the ARM token and api-version checks. */
  handle(request: ServiceRequest): ServiceResponse {
    armCaller(this.context, request, EVENT_GRID_API_VERSIONS);
    const { route, path } = request;
    const [, subscriptionId = "", group = "", topicName = "", subscriptionName = ""] = ROUTES.find(([, name]) => name === route)![0].exec(path.toLowerCase()) ?? [];
    const snapshot = this.snapshot();
    const topics = resourcesOfType(snapshot, "Microsoft.EventGrid/systemTopics");
    const inGroup = (r: DeployedResource) => r.id.toLowerCase().startsWith(`/subscriptions/${subscriptionId}/resourcegroups/${group}/`);
    const topicId = `/subscriptions/${subscriptionId}/resourcegroups/${group}/providers/microsoft.eventgrid/systemtopics/${topicName}`;
    switch (route) {
      case "eventGrid.systemTopics.listBySubscription":
        return { status: 200, body: { value: topics.filter((r) => r.id.toLowerCase().startsWith(`/subscriptions/${subscriptionId}/`)) } };
      case "eventGrid.systemTopics.listByResourceGroup":
        requireResourceGroup(snapshot, subscriptionId, group);
        return { status: 200, body: { value: topics.filter(inGroup) } };
      case "eventGrid.systemTopics.get":
        return { status: 200, body: this.#topic(topics, topicId, topicName) };
      case "eventGrid.eventSubscriptions.list": {
        this.#topic(topics, topicId, topicName);
        const subscriptions = resourcesOfType(snapshot, "Microsoft.EventGrid/systemTopics/eventSubscriptions").filter((r) => r.id.toLowerCase().startsWith(`${topicId}/eventsubscriptions/`));
        return { status: 200, body: { value: subscriptions } };
      }
      case "eventGrid.eventSubscriptions.get": {
        this.#topic(topics, topicId, topicName);
        const found = resourcesOfType(snapshot, "Microsoft.EventGrid/systemTopics/eventSubscriptions").find((r) => r.id.toLowerCase() === `${topicId}/eventsubscriptions/${subscriptionName}`);
        if (!found) throw armError(404, "ResourceNotFound", `The Resource 'Microsoft.EventGrid/systemTopics/${topicName}/eventSubscriptions/${subscriptionName}' under resource group '${group}' was not found.`);
        return { status: 200, body: found };
      }
      default:
        throw armError(404, "InvalidResourceType", `The resource type could not be found for path '${path}'.`);
    }
  }

  #topic(topics: DeployedResource[], topicId: string, name: string): DeployedResource {
    const found = topics.find((r) => r.id.toLowerCase() === topicId);
    if (!found) throw armError(404, "ResourceNotFound", `The Resource 'Microsoft.EventGrid/systemTopics/${name}' was not found.`);
    return found;
  }
}
