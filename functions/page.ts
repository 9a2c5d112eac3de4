import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";
import { apiRequestOf, httpResponseOf } from "./api.js";

/** GET /api/page and /api/page/{file} — the findings page for auditors, and where it signs in. */
export async function pageHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const [runtime, { handlePage }] = await Promise.all([getRuntime(), import("../shared/http/page.js")]);
  return httpResponseOf(await handlePage(await apiRequestOf(request), runtime.config.auth), context, `PAGE ${request.params.file ?? ""}`);
}

/** GET /api/openapi.json — the API's description (OpenAPI 3.1). */
export async function openApiHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { handleOpenApi } = await import("../shared/http/page.js");
  return httpResponseOf(await handleOpenApi(await apiRequestOf(request)), context, "OPENAPI");
}
