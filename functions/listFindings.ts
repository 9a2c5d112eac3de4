import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";
import { apiRequestOf, httpResponseOf } from "./api.js";

/** GET /api/findings — auditors and security admins: findings with filters, one page at a time. */
export async function listFindingsHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const [runtime, { handleListFindings }] = await Promise.all([getRuntime(), import("../shared/http/findings.js")]);
  return httpResponseOf(await handleListFindings(await apiRequestOf(request), runtime.auditors), context, "FINDINGS");
}
