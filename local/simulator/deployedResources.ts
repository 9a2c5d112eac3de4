import type { TenantSnapshot } from "../../shared/model/snapshot.js";
import { armError } from "./http.js";

// The ARM resources of a deployment that the snapshot's optional `resources` section holds, in the
// shape ARM returns them (Event Grid system topics and their event subscriptions, a function app's
// app settings): what `grantguard doctor` reads. Read-only: the simulator serves them, it does not
// deploy them.

/** One ARM resource of the snapshot: its id, type and whatever else ARM returns for it. */
export type DeployedResource = { readonly id: string; readonly type?: unknown; readonly [key: string]: unknown };

/** The snapshot's resources of one type (case-insensitive, as ARM compares types). */
export function resourcesOfType(snapshot: TenantSnapshot, type: string): DeployedResource[] {
  return snapshot.resources.filter((r) => typeof r.type === "string" && r.type.toLowerCase() === type.toLowerCase()).map((r) => structuredClone(r));
}

/**
 * ARM's 404 for a list in a resource group that holds nothing of the snapshot's: the simulator
 * knows resource groups only through what lives in them, and a list in an unknown group is
 * `ResourceGroupNotFound` in Azure (the stricter reading of an empty group).
 */
export function requireResourceGroup(snapshot: TenantSnapshot, subscriptionId: string, group: string): void {
  const prefix = `/subscriptions/${subscriptionId}/resourcegroups/${group}/`.toLowerCase();
  const known = snapshot.resources.some((r) => r.id.toLowerCase().startsWith(prefix)) || snapshot.roleAssignments.some((a) => `${a.properties.scope.toLowerCase()}/`.startsWith(prefix));
  if (!known) throw armError(404, "ResourceGroupNotFound", `Resource group '${group}' could not be found.`);
}

/** The api-version check every ARM resource provider makes: 400 without one, or with one it does not serve. */
export function requireApiVersion(url: URL, versions: ReadonlySet<string>): void {
  const apiVersion = url.searchParams.get("api-version");
  if (!apiVersion) throw armError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
  if (!versions.has(apiVersion)) throw armError(400, "InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid. The supported versions are '${[...versions].join(",")}'.`);
}
