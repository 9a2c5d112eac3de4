import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { ApiRequest, ApiResponse } from "../shared/http/api.js";

/** The API request of an HTTP trigger's request: route parameters, query, headers, and the body parsed as JSON when there is one. */
export async function apiRequestOf(request: HttpRequest): Promise<ApiRequest> {
  const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { params: request.params, query: request.query, headers: request.headers, body };
}

/** The trigger's answer to an API response, logged with its status (and why, which the caller is not told). */
export function httpResponseOf(response: ApiResponse, context: InvocationContext, what: string): HttpResponseInit {
  context.log(`${what}: HTTP ${response.status}${response.detail ? ` (${response.detail})` : ""}`);
  const headers = { "x-content-type-options": "nosniff", ...response.headers };
  if (response.body !== undefined) return { status: response.status, body: response.body, headers };
  return { status: response.status, jsonBody: response.jsonBody, headers };
}
