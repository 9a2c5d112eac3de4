import type { AlertRoute } from "../config.js";
import { SEVERITIES } from "../model/severity.js";
import type { Alert } from "./alert.js";
import type { ChannelKind } from "./channels/types.js";

/** Which channels get an alert at once, and which collect it for the digest. */
export function routeAlert(alert: Alert, routes: readonly AlertRoute[]): { readonly immediate: ChannelKind[]; readonly digest: ChannelKind[] } {
  const rank = SEVERITIES.indexOf(alert.severity);
  const immediate = new Set<ChannelKind>();
  const digest = new Set<ChannelKind>();
  for (const route of routes) {
    if (rank < SEVERITIES.indexOf(route.minSeverity) || rank > SEVERITIES.indexOf(route.maxSeverity)) continue;
    if (route.policies && !route.policies.some((p) => (p.endsWith("*") ? alert.policyId.startsWith(p.slice(0, -1)) : p === alert.policyId))) continue;
    if (route.subscriptions && !route.subscriptions.some((s) => s.toLowerCase() === alert.subscriptionId)) continue;
    for (const channel of route.channels) (route.digest ? digest : immediate).add(channel);
  }
  // A channel that gets the alert at once does not need it again in the digest.
  for (const channel of immediate) digest.delete(channel);
  return { immediate: [...immediate], digest: [...digest] };
}
