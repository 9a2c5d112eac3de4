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

/** How big a synthetic tenant is. */
export interface SyntheticSize {
  readonly assignments: number;
  readonly principals: number;
}

type Json = Record<string, unknown>;
type LogRow = TenantSnapshot["logs"][string][number];
type GraphObject = TenantSnapshot["principals"][number];

// Replaces every occurrence of the keys of `ids` (lower-cased GUIDs) in a string.
const GUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
function remapText(text: string, ids: ReadonlyMap<string, string>): string {
  return text.replace(GUID_PATTERN, (g) => ids.get(g.toLowerCase()) ?? g);
}
function remap<T>(value: T, ids: ReadonlyMap<string, string>, upns: ReadonlyMap<string, string>): T {
  if (typeof value === "string") {
    const upn = upns.get(value.toLowerCase());
    return (upn ?? remapText(value, ids)) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => remap(v, ids, upns)) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, remap(v, ids, upns)])) as T;
  return value;
}

/**
 * A tenant of `size.assignments` assignments and `size.principals` directory objects grown from a
 * seed tenant, everything an export holds copied with it: replica k of the seed's assignments lives
 * in its own subscriptions (same management groups) with its PIM instances and requests, and is
 * held by replica j of the seed's principals (j grows with k, so each principal holds about
 * assignments ÷ principals grants, as in the seed); each principal replica brings its sign-ins,
 * each assignment replica its activity log rows (the grants that made them, the operations of its
 * principals). Role definitions, management groups, resources and granters stay the seed's.
 */
export function syntheticTenant(seed: TenantSnapshot, size: SyntheticSize): TenantSnapshot {
  const perReplica = seed.roleAssignments.length;
  const replicas = Math.max(1, Math.ceil(size.assignments / perReplica));
  const seedSubscriptions = seed.subscriptions.map((s) => s.subscriptionId.toLowerCase());
  const granters = new Set(seed.roleAssignments.flatMap((a) => [a.properties.createdBy, a.properties.updatedBy]).filter((g): g is string => !!g).map((g) => g.toLowerCase()));
  const replicated = seed.principals.filter((p) => !granters.has(p.id.toLowerCase())).length;
  const principalReplicas = 1 + Math.max(0, Math.ceil((size.principals - seed.principals.length) / Math.max(1, replicated)));
  // Which seed principals each replica copies: all but the granters, the last one cut to the size asked for.
  const members: (readonly GraphObject[])[] = [seed.principals];
  let total = seed.principals.length;
  for (let j = 1; j < principalReplicas; j++) {
    const copied = seed.principals.filter((p) => !granters.has(p.id.toLowerCase())).slice(0, Math.max(0, size.principals - total));
    members.push(copied);
    total += copied.length;
  }
  // Principal replica j's ids (and user principal names); replica 0 is the seed itself. A seed
  // principal the replica does not copy keeps its id there (its grants stay the seed principal's).
  const mapsOf = new Map<number, { ids: Map<string, string>; upns: Map<string, string> }>();
  const principalIds = (j: number): { ids: Map<string, string>; upns: Map<string, string> } => {
    const known = mapsOf.get(j);
    if (known) return known;
    const ids = new Map<string, string>();
    const upns = new Map<string, string>();
    for (const p of j === 0 ? [] : members[j]!) {
      const id = p.id.toLowerCase();
      ids.set(id, guid(`${id}/principal/${j}`));
      if (p["@odata.type"] === "#microsoft.graph.servicePrincipal" && p.appId) ids.set(p.appId.toLowerCase(), guid(`${p.appId}/app/${j}`));
      const upn = p["@odata.type"] === "#microsoft.graph.user" ? p.userPrincipalName : null;
      if (upn) upns.set(upn.toLowerCase(), upn.replace(/@/, `.${j}@`));
    }
    mapsOf.set(j, { ids, upns });
    return { ids, upns };
  };
  const principalReplicaOf = (k: number) => Math.min(principalReplicas - 1, Math.floor((k * principalReplicas) / replicas));

  const principals: TenantSnapshot["principals"] = [];
  const signIns: Record<string, LogRow[]> = {};
  const SIGN_IN_TABLES = ["SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs", "AADManagedIdentitySignInLogs"];
  for (let j = 0; j < principalReplicas; j++) {
    const { ids, upns } = principalIds(j);
    for (const p of members[j]!) principals.push(j === 0 ? p : { ...remap(p, ids, upns), displayName: `${p.displayName ?? p.id} ${j}` });
    for (const table of SIGN_IN_TABLES) {
      const rows = seed.logs[table] ?? [];
      (signIns[table] ??= []).push(...(j === 0 ? rows : rows.filter((r) => [r.UserId, r.ServicePrincipalId].some((id) => typeof id === "string" && ids.has(id.toLowerCase()))).map((r) => ({ ...remap(r, ids, upns), CorrelationId: guid(`${String(r.CorrelationId)}/${j}`) }))));
    }
  }

  const subscriptions = [...seed.subscriptions];
  const roleAssignments: TenantSnapshot["roleAssignments"] = [];
  const instances: Json[] = [];
  const requests: Json[] = [];
  const activity: LogRow[] = [];
  for (let k = 0; k < replicas; k++) {
    const { ids: principalMap, upns } = principalIds(principalReplicaOf(k));
    const ids = new Map(principalMap);
    if (k > 0) {
      for (const s of seed.subscriptions) {
        const id = guid(`${s.subscriptionId.toLowerCase()}/${k}`);
        ids.set(s.subscriptionId.toLowerCase(), id);
        subscriptions.push({ ...s, id: `/subscriptions/${id}`, subscriptionId: id, displayName: `${s.displayName ?? "subscription"} ${k}` });
      }
      for (const a of seed.roleAssignments) ids.set(a.name.toLowerCase(), guid(`${a.name}/${k}`));
    }
    const count = Math.min(perReplica, size.assignments - k * perReplica);
    const replica = seed.roleAssignments.slice(0, count);
    const names = new Set(replica.map((a) => a.name.toLowerCase()));
    const copy = <T>(value: T): T => (k === 0 && principalMap.size === 0 ? value : remap(value, ids, upns));
    for (const a of replica) {
      let moved = copy(a);
      const sub = /^\/subscriptions\/([^/]+)/i.exec(a.properties.scope)?.[1]?.toLowerCase();
      // Management-group and root grants of a replica become grants on its first subscription.
      if (k > 0 && (!sub || !seedSubscriptions.includes(sub)) && seedSubscriptions[0]) {
        const scope = `/subscriptions/${ids.get(seedSubscriptions[0])}`;
        const role = a.properties.roleDefinitionId.split("/").pop()!;
        moved = { ...moved, id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${moved.name}`, properties: { ...moved.properties, scope, roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${role}` } };
      }
      // Keep the granter: seed principals that made grants are not replicated.
      roleAssignments.push({ ...moved, properties: { ...moved.properties, createdBy: a.properties.createdBy, updatedBy: a.properties.updatedBy } });
    }
    const movedScope = (o: Json) => {
      const props = o.properties as Json;
      const scope = String(props.scope);
      const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1]?.toLowerCase();
      return k > 0 && (!sub || !seedSubscriptions.includes(sub));
    };
    const ofReplica = (o: Json) => {
      const origin = String((o.properties as Json).originRoleAssignmentId ?? o.name ?? "");
      return names.has((origin.split("/").pop() ?? "").toLowerCase());
    };
    // PIM records of the replica's grants; those above a subscription are left with the seed.
    for (const i of seed.roleAssignmentScheduleInstances ?? []) if ((k === 0 || !movedScope(i)) && ofReplica(i)) instances.push(copy(i));
    for (const r of seed.roleAssignmentScheduleRequests ?? []) if (k === 0 || !movedScope(r)) requests.push(copy({ ...r, name: r.name ?? "" }));
    // The activity log rows of the replica: the writes that made its grants, and what its principals did.
    for (const row of seed.logs.AzureActivity ?? []) {
      const target = String(row._ResourceId ?? "").split("/").pop()?.toLowerCase() ?? "";
      const caller = String(row.Caller ?? "").toLowerCase();
      if (k === 0) activity.push(row);
      else if (names.has(target) || upns.has(caller) || ids.has(caller)) activity.push({ ...copy(row), CorrelationId: guid(`${String(row.CorrelationId)}/${k}`) });
    }
  }
  const logs: TenantSnapshot["logs"] = { ...seed.logs, ...signIns, AzureActivity: activity };
  return {
    ...seed,
    subscriptions,
    roleAssignments,
    principals,
    logs,
    ...(seed.roleAssignmentScheduleInstances ? { roleAssignmentScheduleInstances: instances } : {}),
    ...(seed.roleAssignmentScheduleRequests ? { roleAssignmentScheduleRequests: requests } : {}),
  };
}
