import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuthConfig } from "../config.js";
import { packageRoot } from "../config.js";
import { badRequest, type ApiRequest, type ApiResponse } from "./api.js";
import { parseParams } from "./params.js";
import { z } from "zod";

// The findings page: plain HTML, CSS and JavaScript from web/, served by the app itself, and the
// public sign-in settings it needs (tenant, client id, authority: what any sign-in page shows).

const FILES: Readonly<Record<string, string>> = {
  "": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

// The page loads nothing from elsewhere and runs no inline script; it talks to this API and to Entra ID's token endpoint.
function securityHeaders(auth: AuthConfig | null): Record<string, string> {
  const connect = ["'self'", ...(auth ? [new URL(auth.authority).origin] : [])].join(" ");
  return {
    "content-security-policy": `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
  };
}

const cache = new Map<string, string>();

async function webFile(name: string): Promise<string> {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const text = await readFile(join(packageRoot(), "web", name === "" ? "index.html" : name), "utf8");
  cache.set(name, text);
  return text;
}

/** GET /api/page, /api/page/app.js, /api/page/app.css and /api/page/config.json (the sign-in settings). */
export async function handlePage(request: ApiRequest, auth: AuthConfig | null): Promise<ApiResponse> {
  const file = request.params.file ?? "";
  if (file === "config.json") {
    if (!auth) return { status: 503, jsonBody: { error: "sign-in is not configured: set GRANTGUARD_AUTH_TENANT_ID and GRANTGUARD_AUTH_AUDIENCE" } };
    const clientId = auth.audiences[0] ?? "";
    return { status: 200, jsonBody: { authority: auth.authority, tenantId: auth.tenantId, clientId, scope: `api://${clientId}/user_impersonation` }, headers: { "cache-control": "no-cache" } };
  }
  const type = FILES[file];
  if (type === undefined) return { status: 404, jsonBody: { error: `no page file ${file.slice(0, 100)}` } };
  // The sign-in's answer comes back as ?code=…&state=… (or an error): the page reads those itself.
  const known = parseParams(request.query, file === "" ? { code: anyText, state: anyText, error: anyText, error_description: anyText, session_state: anyText } : {});
  if (!known.ok) return badRequest(known.error);
  return { status: 200, body: await webFile(file), headers: { "content-type": type, ...securityHeaders(auth) } };
}

const anyText = z.string().max(8_192);

/** GET /api/openapi.json: the API's own description. */
export async function handleOpenApi(request: ApiRequest): Promise<ApiResponse> {
  const known = parseParams(request.query, {});
  if (!known.ok) return badRequest(known.error);
  const text = await readFile(join(packageRoot(), "docs", "openapi.json"), "utf8");
  return { status: 200, body: text, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache" } };
}
