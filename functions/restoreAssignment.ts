import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { handleRestoreRequest } from "../shared/http/restore.js";
import { getRuntime } from "../shared/runtime.js";

/**
 * POST /api/revocations/{id}/restore — for security admins, behind App Service Authentication
 * (which rejects anonymous calls before they get here); runs with the caller's own credentials.
 */
export async function restoreAssignmentHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const runtime = await getRuntime();
  const body = await request.json().catch(() => undefined);
  const response = await handleRestoreRequest({ id: request.params.id ?? "", headers: request.headers, body }, { revocations: runtime.services.revocations, armEndpoint: runtime.config.armEndpoint, now: () => new Date() });
  context.log(`RESTORE ${request.params.id}: HTTP ${response.status}`);
  return response;
}
