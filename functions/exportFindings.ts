import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";
import { apiRequestOf, httpResponseOf } from "./api.js";

/** GET /api/findings/export?format=csv|json — every finding matching the filters, streamed. */
export async function exportFindingsHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const [runtime, { handleExportFindings }] = await Promise.all([getRuntime(), import("../shared/http/findings.js")]);
  return httpResponseOf(await handleExportFindings(await apiRequestOf(request), runtime.auditors), context, "EXPORT");
}
