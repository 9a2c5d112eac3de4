import { z } from "zod";
import { FINDING_STATUSES } from "../model/finding.js";
import { SEVERITIES } from "../model/severity.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type FindingsFilter } from "../findings/query.js";

// Query parameters are parsed here, at the edge, once: a wrong one is a 400 that names it and says
// why; a valid value reaches Table Storage only through the SDK's odata template.

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = (what: string) => z.string().regex(GUID, `must be ${what} (a GUID)`);
const isoTime = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(v) && !Number.isNaN(Date.parse(v)), "must be an ISO 8601 date (2026-03-01) or time with a zone (2026-03-01T09:00:00Z)")
  .transform((v) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v).toISOString());
// An ARM scope: "/" or /segment/… of the characters ARM names use; no query, fragment, dot segments or escapes.
const scope = z
  .string()
  .max(2_000, "must be at most 2000 characters")
  .refine((v) => v === "/" || (/^(\/[^/?#%\\\s]+)+\/?$/.test(v) && !v.split("/").some((s) => s === "." || s === "..")), "must be an ARM scope such as /subscriptions/{id} or /subscriptions/{id}/resourceGroups/{name}");
const pageSize = z
  .string()
  .regex(/^\d{1,4}$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
  .transform(Number)
  .refine((n) => n >= 1 && n <= MAX_PAGE_SIZE, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
const token = z.string().min(1).max(4_096, "is not one this API issued");

const findingsParams = {
  status: z.enum(FINDING_STATUSES, { message: `must be one of ${FINDING_STATUSES.join(", ")}` }),
  severity: z.enum(SEVERITIES, { message: `must be one of ${SEVERITIES.join(", ")}` }),
  policy: z.string().regex(/^[a-z0-9][a-z0-9-]{2,79}$/, "must be a policy id (3-80 lower-case letters, digits and dashes)"),
  subscription: guid("a subscription id"),
  scope,
  principal: guid("a principal's object id"),
  from: isoTime,
  to: isoTime,
};

/** The outcome of parsing a query string: the values, or the message of a 400. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Parses query parameters with one schema each: unknown and repeated parameters are refused by name. */
export function parseParams<S extends Record<string, z.ZodType>>(query: URLSearchParams, schemas: S): Parsed<{ [K in keyof S]?: z.output<S[K]> }> {
  const value: Record<string, unknown> = {};
  const names = [...new Set(query.keys())];
  for (const name of names) {
    const schema = schemas[name];
    if (!schema) return { ok: false, error: `unknown query parameter '${name.slice(0, 100)}': use ${Object.keys(schemas).join(", ")}` };
    const all = query.getAll(name);
    if (all.length > 1) return { ok: false, error: `query parameter '${name}' is given ${all.length} times: give it once` };
    const parsed = schema.safeParse(all[0]);
    if (!parsed.success) return { ok: false, error: `query parameter '${name}' ${parsed.error.issues[0]?.message ?? "is not valid"}` };
    value[name] = parsed.data;
  }
  return { ok: true, value: value as { [K in keyof S]?: z.output<S[K]> } };
}

/** The findings filters of a query string (and, for lists, its paging), checked together. */
export function parseFindingsQuery(query: URLSearchParams, paging: boolean): Parsed<{ readonly filter: FindingsFilter; readonly pageSize: number; readonly continuationToken: string | null; readonly format: "csv" | "json" }> {
  const schemas = paging ? { ...findingsParams, pageSize, continuationToken: token } : { ...findingsParams, format: z.enum(["csv", "json"], { message: "must be csv or json" }) };
  const parsed = parseParams(query, schemas as typeof findingsParams & { pageSize: typeof pageSize; continuationToken: typeof token; format: z.ZodType<"csv" | "json"> });
  if (!parsed.ok) return parsed;
  const p = parsed.value;
  if (p.from && p.to && p.from >= p.to) return { ok: false, error: "query parameter 'from' must be before 'to'" };
  const filter: FindingsFilter = {
    ...(p.status ? { status: p.status } : {}),
    ...(p.severity ? { severity: p.severity } : {}),
    ...(p.policy ? { policyId: p.policy } : {}),
    ...(p.subscription ? { subscriptionId: p.subscription.toLowerCase() } : {}),
    ...(p.scope ? { scopePrefix: p.scope } : {}),
    ...(p.principal ? { principalId: p.principal.toLowerCase() } : {}),
    ...(p.from ? { seenFrom: p.from } : {}),
    ...(p.to ? { seenTo: p.to } : {}),
  };
  return { ok: true, value: { filter, pageSize: p.pageSize ?? DEFAULT_PAGE_SIZE, continuationToken: p.continuationToken ?? null, format: p.format ?? "json" } };
}

/** Access-history parameters: a principal or a scope, a point in time, paging. */
export const accessParams = { principal: guid("a principal's object id"), scope, at: isoTime, pageSize, continuationToken: token };
