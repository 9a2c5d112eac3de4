import type { TenantSnapshot } from "../model/snapshot.js";

const MG_PREFIX = "/providers/microsoft.management/managementgroups/";

/** The scope tree of a tenant: management groups, their parents, and which one holds each subscription. */
export class ScopeHierarchy {
  readonly #mgParent = new Map<string, string | null>();
  readonly #subscriptionMg = new Map<string, string | null>();

  constructor(snapshot: Pick<TenantSnapshot, "managementGroups" | "subscriptions">) {
    for (const mg of snapshot.managementGroups) {
      const parent = (mg.properties as { details?: { parent?: { id?: string } | null } } | undefined)?.details?.parent?.id;
      this.#mgParent.set(mg.name.toLowerCase(), parent ? (parent.split("/").pop() ?? "").toLowerCase() : null);
    }
    for (const s of snapshot.subscriptions) {
      this.#subscriptionMg.set(s.subscriptionId.toLowerCase(), s.managementGroupId ? (s.managementGroupId.split("/").pop() ?? "").toLowerCase() : null);
    }
  }

  /** The scope and every scope above it, lower-cased: "/", management groups, subscription, group, resources. */
  ancestors(scope: string): string[] {
    const id = scope.toLowerCase().replace(/\/+$/, "");
    if (id === "" || id === "/") return ["/"];
    if (id.startsWith(MG_PREFIX)) return ["/", ...this.#mgChain(id.slice(MG_PREFIX.length)).reverse()];
    // ["subscriptions", s, "resourcegroups", rg, "providers", namespace, type, name, type, name, …]
    const parts = id.split("/").slice(1);
    const prefix = (length: number) => `/${parts.slice(0, length).join("/")}`;
    const out = ["/", ...this.#mgChain(this.#subscriptionMg.get(parts[1] ?? "") ?? null).reverse(), prefix(2)];
    if (parts.length >= 4) out.push(prefix(4));
    for (let length = 8; length <= parts.length; length += 2) out.push(prefix(length));
    return out;
  }

  #mgChain(name: string | null): string[] {
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let current = name; current && !seen.has(current); current = this.#mgParent.get(current) ?? null) {
      seen.add(current);
      chain.push(`${MG_PREFIX}${current}`);
    }
    return chain;
  }
}

/** Where role definitions are listed for an assignment: its subscription, else the scope itself. */
export function roleListingScope(scope: string): string {
  return /^\/subscriptions\/[^/]+/i.exec(scope)?.[0] ?? scope;
}
