import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenClaims } from "./jwt.js";
import type { TenantState } from "./tenant.js";

// What every simulated service shares: the error an answer is thrown as, the service interface
// the HTTPS front routes to, and the plumbing that reads a body and writes an answer.

/** An answer other than success, thrown by a service and sent as it is. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** An ARM error body: `{ error: { code, message } }`. */
export const armError = (status: number, code: string, message: string) => new HttpError(status, { error: { code, message } });

/** A Microsoft Graph error body: code, message and the innerError with date and request ids. */
export const graphError = (status: number, code: string, message: string) =>
  new HttpError(status, { error: { code, message, innerError: { date: new Date().toISOString(), "request-id": randomUUID(), "client-request-id": randomUUID() } } });

/** The route name of a request no service answers (the front answers ARM's 404 for it). */
export const UNKNOWN_ROUTE = "unknown";

/** The base a request's path is parsed against (a nextLink swaps it for the simulator's URL). */
export const REQUEST_BASE = "https://simulator";

/** A request as a service receives it: named, its path collapsed and parsed, its body read. */
export interface ServiceRequest {
  readonly route: string;
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly path: string;
  readonly body: unknown;
}

/** A service's answer. */
export interface ServiceResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/**
 * One service the simulator speaks (ARM's role assignments, Graph, the managed-identity
 * endpoint…). The front asks each service in turn to name a request, and hands it to the first
 * that does.
 */
export interface SimulatedService {
  /**
   * The route name of a request this service answers (e.g. "arm.roleAssignments.get"), UNKNOWN_ROUTE
   * for a path in its namespace that names no operation of it, or null when the request is not
   * for it (the next service is asked).
   */
  routeOf(method: string, lowerPath: string): string | null;
  /** Answers a request this service named. */
  handle(request: ServiceRequest): ServiceResponse | Promise<ServiceResponse>;
}

/** How a service refuses a request whose bearer token is missing or invalid, in its own error shape. */
export type Refusal = (reason: string, code: string | undefined, hadToken: boolean) => HttpError;

/** What the front gives every service: the tenant now, its own URL, and token checking. */
export interface SimulatorContext {
  /** The tenant as it is now (a reset replaces it, so read it per request). */
  state(): TenantState;
  /** The simulator's base URL, e.g. https://127.0.0.1:41234. */
  baseUrl(): string;
  /** The verified claims of the request's bearer token for one of `audiences`; throws `refuse`'s error otherwise. */
  authenticate(req: IncomingMessage, audiences: readonly string[], refuse: Refusal): TokenClaims;
}

/** The request body as JSON (or a form, for OAuth token requests); 413 over 4 MiB, 400 when it cannot be read. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 4 * 1024 * 1024) throw new HttpError(413, { error: { code: "RequestEntityTooLarge", message: "The request body is too large." } });
    chunks.push(chunk as Buffer);
  }
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    // OAuth token requests (the local Entra ID's token endpoint) are form-encoded; ARM and Graph take JSON
    // (curl -d labels JSON as a form too, hence JSON first).
    if (req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
    throw new HttpError(400, { error: { code: "InvalidRequestContent", message: "The request content was invalid and could not be deserialized." } });
  }
}

/** A body that is not JSON: the local Entra ID's sign-in page, or an empty redirect. */
export class RawBody {
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {}
}

/** Writes a JSON answer with a request id, as Azure's services do (a RawBody as it is). */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body instanceof RawBody) {
    res.writeHead(status, { "content-type": body.contentType, "x-ms-request-id": randomUUID(), ...headers });
    res.end(body.text);
    return;
  }
  const payload = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": randomUUID(), ...headers });
  res.end(payload);
}
