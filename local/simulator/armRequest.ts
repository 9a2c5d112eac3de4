import { armError, HttpError, REQUEST_BASE, UNKNOWN_ROUTE, type Refusal, type ServiceRequest, type SimulatorContext } from "./http.js";
import type { TokenClaims } from "./jwt.js";
import { subscriptionOfKey, type ScopeIndex } from "./scopeIndex.js";
import type { TenantState } from "./tenant.js";

// What every Microsoft.Authorization request goes through, whichever resource type it addresses:
// the caller's token, the api-version, the scope and name in its path, and ARM's list semantics
// ($filter, at/above/below, pages with nextLink).

const ARM_AUDIENCES = ["https://management.azure.com", "https://management.core.windows.net"];

/** ARM's 401: AuthenticationFailed without a token, InvalidAuthenticationToken (or the verifier's code) with one, and a challenge. */
const refuse: Refusal = (reason, code, hadToken) =>
  new HttpError(401, { error: { code: code ?? (hadToken ? "InvalidAuthenticationToken" : "AuthenticationFailed"), message: reason } }, { "www-authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"' });

/** The caller of an ARM request, after its token and its api-version (one of `versions`) are checked. */
export function armCaller(context: SimulatorContext, { req, url }: ServiceRequest, versions: ReadonlySet<string>): TokenClaims {
  const caller = context.authenticate(req, ARM_AUDIENCES, refuse);
  const apiVersion = url.searchParams.get("api-version");
  if (!apiVersion) throw armError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
  if (!versions.has(apiVersion)) {
    throw armError(400, "InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid. The supported versions are '${[...versions].join(",")}'.`);
  }
  return caller;
}

/**
 * Names an ARM request to one of `kinds` (resource type names keyed by their lower-cased provider
 * segment): `arm.{kind}.list`, `.get`, and for `writable` kinds `.create` and `.delete`;
 * UNKNOWN_ROUTE for another method on them; null when the path holds none of the segments.
 */
export function armRouteOf(method: string, lowerPath: string, kinds: ReadonlyArray<readonly [segment: string, kind: string]>, writable: ReadonlySet<string>): string | null {
  for (const [segment, kind] of kinds) {
    const index = lowerPath.lastIndexOf(segment);
    if (index < 0) continue;
    const rest = lowerPath.slice(index + segment.length);
    if (rest === "" || rest === "/") return method === "GET" ? `arm.${kind}.list` : UNKNOWN_ROUTE;
    if (/^\/[^/]+$/.test(rest)) {
      const verb = method === "GET" ? "get" : method === "PUT" ? "create" : method === "DELETE" ? "delete" : null;
      return verb && (writable.has(kind) || verb === "get") ? `arm.${kind}.${verb}` : UNKNOWN_ROUTE;
    }
  }
  return null;
}

/** The scope and the resource name of a path to `segment` (lower-cased), both as the caller spelled them. */
export function splitProviderPath(path: string, segment: string): { scope: string; name: string } {
  const index = path.toLowerCase().lastIndexOf(segment);
  const scope = index <= 0 ? "/" : path.slice(0, index);
  const name = decodeURIComponent(path.slice(index + segment.length).replace(/^\//, ""));
  return { scope, name };
}

/** A list's $filter, parsed: nothing, atScope(), a principal, or one of PIM's caller-relative functions. */
export type ListFilter = { kind: "none" } | { kind: "atScope" } | { kind: "principal"; principalId: string } | { kind: "asTarget" } | { kind: "asRequestor" } | { kind: "asApprover" };

/** The $filter forms a Microsoft.Authorization list may accept. */
export type FilterName = "atScope" | "principalId" | "assignedTo" | "asTarget" | "asRequestor" | "asApprover";

const FILTER_SYNTAX: Record<FilterName, string> = { atScope: "'atScope()'", principalId: "'principalId eq '{value}''", assignedTo: "'assignedTo('{value}')'", asTarget: "'asTarget()'", asRequestor: "'asRequestor()'", asApprover: "'asApprover()'" };

/** Parses the $filter forms a Microsoft.Authorization list accepts; any other is ARM's 400 UnsupportedQuery. */
export function parseFilter(raw: string | null, accepted: readonly FilterName[]): ListFilter {
  if (raw === null || raw.trim() === "") return { kind: "none" };
  const f = raw.trim();
  const allowed = (name: FilterName) => accepted.includes(name);
  const principal = (allowed("principalId") ? /^principalId eq '([^']+)'$/i.exec(f) : null) ?? (allowed("assignedTo") ? /^assignedTo\('([^']+)'\)$/i.exec(f) : null);
  if (principal) return { kind: "principal", principalId: principal[1]!.toLowerCase() };
  for (const name of ["atScope", "asTarget", "asRequestor", "asApprover"] as const) {
    if (allowed(name) && new RegExp(`^${name}\\(\\)$`, "i").test(f)) return { kind: name };
  }
  throw armError(400, "UnsupportedQuery", `The filter '${raw}' is not supported. Supported filters are ${accepted.map((n) => FILTER_SYNTAX[n]).join(" or ")}.`);
}

/**
 * ARM's list semantics for Microsoft.Authorization collections: no filter means at, above and
 * below the scope; atScope() means at and above; a principal filter means that principal's
 * items at, above and below. Items come from the collection's scope index, in its order: only
 * the scopes that can answer are read (for a scope in a subscription, the scopes above it and
 * those of its subscription).
 */
export function atAboveBelow<T>(state: TenantState, scope: string, filter: ListFilter, index: ScopeIndex<T>, principalOf: (item: T) => string): T[] {
  const queryScope = scope === "" ? "/" : scope;
  const above = new Set(state.ancestors(queryScope));
  const at = (queryScope === "/" ? "" : queryScope).toLowerCase();
  const below = (key: string) => queryScope === "/" || state.ancestors(key).includes(at);
  // Only a scope of the same subscription can have a subscription's scope above it.
  const sub = subscriptionOfKey(at);
  const candidates = filter.kind === "atScope" ? above : queryScope === "/" || sub === null ? index.scopes() : [...above, ...index.scopesIn(sub)];
  const keys = [...new Set(candidates)].filter((key) => above.has(key) || (filter.kind !== "atScope" && below(key)));
  const items = index.gather(keys);
  return filter.kind === "principal" ? items.filter((item) => principalOf(item).toLowerCase() === filter.principalId) : items;
}

/** One page of a list, `size` items from the request's $skiptoken, with a nextLink back to the simulator while more remain. */
export function page(context: SimulatorContext, url: URL, items: unknown[], size: number): { value: unknown[]; nextLink?: string } {
  const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
  const value = items.slice(skip, skip + size);
  if (skip + size >= items.length) return { value };
  const next = new URL(url.toString().replace(REQUEST_BASE, context.baseUrl()));
  next.searchParams.set("$skiptoken", String(skip + size));
  return { value, nextLink: next.toString() };
}
