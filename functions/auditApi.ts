import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";

async function dependencies() {
  const [runtime, http] = await Promise.all([getRuntime(), import("../shared/http/audit.js")]);
  return { http, deps: { chain: runtime.services.audit.chain, digests: runtime.services.audit.digests?.store ?? null, tokens: runtime.tokens, now: () => new Date() } };
}

/** GET /api/audit — for auditors and security admins: the audit trail's records, a page at a time (the caller's Entra ID token is validated here). */
export async function listAuditHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { http, deps } = await dependencies();
  const { detail, ...response } = await http.handleAuditList({ headers: request.headers, query: request.query }, deps);
  context.log(`AUDIT list: HTTP ${response.status}${detail ? ` (${detail})` : ""}`);
  return response;
}

/** GET /api/audit/export — for auditors and security admins: the whole trail and its digests as JSON lines, streamed; what `grantguard audit verify --file` reads. */
export async function exportAuditHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { http, deps } = await dependencies();
  const { detail, ...response } = await http.handleAuditExport({ headers: request.headers, query: request.query }, deps);
  context.log(`AUDIT export: HTTP ${response.status}${detail ? ` (${detail})` : ""}`);
  return response;
}
