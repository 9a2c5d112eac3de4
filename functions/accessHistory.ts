import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";
import { apiRequestOf, httpResponseOf } from "./api.js";

/** GET /api/access — who held which role where at a given time. */
export async function accessHistoryHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const [runtime, { handleAccessHistory }] = await Promise.all([getRuntime(), import("../shared/http/auditors.js")]);
  return httpResponseOf(await handleAccessHistory(await apiRequestOf(request), runtime.auditors), context, "ACCESS");
}
