import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";

/**
 * POST /api/revocations/{id}/restore — for security admins: the function validates the caller's
 * Entra ID access token itself (anonymous at the host level), and runs with the caller's own ARM token.
 */
export async function restoreAssignmentHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const [runtime, { handleRestoreRequest }] = await Promise.all([getRuntime(), import("../shared/http/restore.js")]);
  const body = await request.json().catch(() => undefined);
  const { detail, ...response } = await handleRestoreRequest({ id: request.params.id ?? "", headers: request.headers, body }, { revocations: runtime.services.revocations, tokens: runtime.tokens, writerFor: runtime.writerFor, now: () => new Date() });
  context.log(`RESTORE ${request.params.id}: HTTP ${response.status}${detail ? ` (${detail})` : ""}`);
  return response;
}
