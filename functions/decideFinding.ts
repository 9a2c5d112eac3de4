import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";
import { apiRequestOf, httpResponseOf } from "./api.js";

/** POST /api/findings/{id}/acknowledge — security admins: the risk is seen, the finding stays open. */
export async function acknowledgeFindingHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const [runtime, { handleDecision }] = await Promise.all([getRuntime(), import("../shared/http/findings.js")]);
  return httpResponseOf(await handleDecision(await apiRequestOf(request), "acknowledge", runtime.auditors), context, `ACKNOWLEDGE ${request.params.id}`);
}

/** POST /api/findings/{id}/exempt — security admins: accept the risk with an owner, a justification and an expiry. */
export async function exemptFindingHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const [runtime, { handleDecision }] = await Promise.all([getRuntime(), import("../shared/http/findings.js")]);
  return httpResponseOf(await handleDecision(await apiRequestOf(request), "exempt", runtime.auditors), context, `EXEMPT ${request.params.id}`);
}
