import { createHash } from "node:crypto";
import type { TenantSnapshot } from "../shared/model/snapshot.js";

const guid = (seed: string) => {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/**
 * A tenant of `count` assignments grown from a seed tenant: copy k of the seed's assignments
 * lives in its own subscriptions (same management groups), so counts per scope stay what a real
 * tenant of that size would show instead of piling up on the seed's scopes.
 */
export function scaleTenant(seed: TenantSnapshot, count: number): TenantSnapshot {
  const subscriptionOf = new Map(seed.subscriptions.map((s) => [s.subscriptionId.toLowerCase(), s]));
  const copies = Math.ceil(count / seed.roleAssignments.length);
  const subscriptions = [...seed.subscriptions];
  const subFor = (k: number, sub: string) => (k === 0 ? sub : guid(`${sub}/${k}`));
  for (let k = 1; k < copies; k++) {
    for (const s of seed.subscriptions) {
      const id = subFor(k, s.subscriptionId.toLowerCase());
      subscriptions.push({ ...s, id: `/subscriptions/${id}`, subscriptionId: id, displayName: `${s.displayName ?? "subscription"} ${k}` });
    }
  }
  const firstSub = seed.subscriptions[0]?.subscriptionId.toLowerCase() ?? "00000000-0000-0000-0000-000000000000";
  const roleAssignments = Array.from({ length: count }, (_, i) => {
    const base = seed.roleAssignments[i % seed.roleAssignments.length]!;
    const k = Math.floor(i / seed.roleAssignments.length);
    let scope = base.properties.scope;
    const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1]?.toLowerCase();
    if (k > 0) {
      // Copies move into their own subscriptions; management-group and root grants become subscription grants.
      scope = sub && subscriptionOf.has(sub) ? scope.replace(/^\/subscriptions\/[^/]+/i, `/subscriptions/${subFor(k, sub)}`) : `/subscriptions/${subFor(k, firstSub)}`;
    }
    const name = k === 0 ? base.name : guid(`${base.name}/${k}`);
    const newSub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
    const roleGuid = base.properties.roleDefinitionId.split("/").pop()!;
    const roleDefinitionId = newSub ? `/subscriptions/${newSub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}` : base.properties.roleDefinitionId;
    return { ...base, id: `${scope === "/" ? "" : scope}/providers/Microsoft.Authorization/roleAssignments/${name}`, name, properties: { ...base.properties, scope, roleDefinitionId } };
  });
  return { ...seed, subscriptions, roleAssignments };
}
