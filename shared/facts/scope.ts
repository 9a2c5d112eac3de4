/** How high in the Azure hierarchy a scope sits. */
export type ScopeLevel = "root" | "managementGroup" | "subscription" | "resourceGroup" | "resource";

/** A scope taken apart: its level and the names along its path (null where absent). */
export interface ScopeInfo {
  readonly id: string;
  readonly level: ScopeLevel;
  readonly managementGroup: string | null;
  readonly subscriptionId: string | null;
  readonly resourceGroup: string | null;
  readonly resourceType: string | null;
}

const MG = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)$/i;
const SUB = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+)(?:\/providers\/(.+))?)?$/i;

/** Classifies an ARM scope string; anything unrecognised below a subscription counts as a resource. */
export function parseScope(scope: string): ScopeInfo {
  const id = scope.length > 1 ? scope.replace(/\/+$/, "") : scope;
  if (id === "/" || id === "") return { id: "/", level: "root", managementGroup: null, subscriptionId: null, resourceGroup: null, resourceType: null };
  const mg = MG.exec(id);
  if (mg) return { id, level: "managementGroup", managementGroup: mg[1] ?? null, subscriptionId: null, resourceGroup: null, resourceType: null };
  const sub = SUB.exec(id);
  if (sub) {
    const [, subscriptionId = null, resourceGroup = null, resourcePath = null] = sub;
    const level: ScopeLevel = resourcePath ? "resource" : resourceGroup ? "resourceGroup" : "subscription";
    return { id, level, managementGroup: null, subscriptionId: subscriptionId?.toLowerCase() ?? null, resourceGroup, resourceType: resourcePath ? resourceTypeOf(resourcePath) : null };
  }
  const subPrefix = /^\/subscriptions\/([^/]+)\//i.exec(id);
  return { id, level: "resource", managementGroup: null, subscriptionId: subPrefix?.[1]?.toLowerCase() ?? null, resourceGroup: null, resourceType: null };
}

// "Microsoft.Storage/storageAccounts/acct/blobServices/default" → "Microsoft.Storage/storageAccounts/blobServices"
function resourceTypeOf(path: string): string {
  const parts = path.split("/");
  const provider = parts[0] ?? "";
  const types = parts.slice(1).filter((_, i) => i % 2 === 0);
  return [provider, ...types].join("/");
}
