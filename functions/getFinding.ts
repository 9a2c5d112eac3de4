import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";
import { apiRequestOf, httpResponseOf } from "./api.js";

/** GET /api/findings/{id} — one finding and its story. */
export async function getFindingHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const [runtime, { handleGetFinding }] = await Promise.all([getRuntime(), import("../shared/http/findings.js")]);
  return httpResponseOf(await handleGetFinding(await apiRequestOf(request), runtime.auditors), context, `FINDING ${request.params.id}`);
}
