import type { AccessHistory } from "../findings/access.js";
import { DEFAULT_PAGE_SIZE } from "../findings/query.js";
import { answering, authorize, badRequest, type ApiRequest, type ApiResponse } from "./api.js";
import { READ_ROLES, type FindingsApiDependencies } from "./findings.js";
import { accessParams, parseParams } from "./params.js";

/** Everything the auditors' API works with. */
export interface AuditorApiDependencies extends FindingsApiDependencies {
  readonly access: AccessHistory;
}

/**
 * GET /api/access?principal=…|scope=…&at=…: who held which role where at one time ("who had
 * Owner on prod on 1 March"), from the intervals the event path and the sweeps recorded. `at`
 * defaults to now; `scope` covers the scope and everything below it.
 */
export async function handleAccessHistory(request: ApiRequest, deps: AuditorApiDependencies): Promise<ApiResponse> {
  const auth = await authorize(request, deps.tokens, READ_ROLES, "reading the access history");
  if (!auth.ok) return auth.response;
  const parsed = parseParams(request.query, accessParams);
  if (!parsed.ok) return badRequest(parsed.error);
  const p = parsed.value;
  if (!p.principal && !p.scope) return badRequest("give query parameter 'principal' (an object id) or 'scope' (an ARM scope), or both");
  const at = p.at ?? deps.now().toISOString();
  return answering(async () => {
    const page = await deps.access.queryPage({ ...(p.principal ? { principalId: p.principal.toLowerCase() } : {}), ...(p.scope ? { scopePrefix: p.scope } : {}), at }, { pageSize: p.pageSize ?? DEFAULT_PAGE_SIZE, continuationToken: p.continuationToken ?? null });
    return { status: 200, jsonBody: { at, intervals: page.intervals, continuationToken: page.continuationToken } };
  });
}
